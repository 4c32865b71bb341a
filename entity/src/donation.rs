//! A donation to a charity fund or to a campaign, with its receipt number.
//!
//! Online donations start `PENDING` and become `CONFIRMED` only when the payment provider's
//! signed notification says the money arrived; offline gifts (cash, bank transfer) are
//! recorded `CONFIRMED` by the recipient's staff, with a reference. Only confirmed money counts
//! anywhere: balances, campaign totals, statistics, receipts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "donation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `TXR-2026-…`, unique, reserved when the donation is made and shown once it is confirmed.
    pub receipt_number: String,
    /// Exactly one of `fund_id` and `campaign_id` is set.
    pub fund_id: Option<i64>,
    pub campaign_id: Option<i64>,
    /// Who gave online (always kept; hidden from the public when `anonymous`). `None` for an
    /// offline gift, whose donor has no account here.
    pub account_id: Option<i64>,
    pub amount_fen: i64,
    pub donor_name: String,
    pub anonymous: bool,
    pub message: String,
    pub created_at: DateTimeUtc,
    /// Whether the money has arrived.
    #[serde(default)]
    pub status: DonationStatus,
    /// How the money came.
    #[serde(default)]
    pub channel: DonationChannel,
    /// Our order number at the payment provider (`TXO-…`), for online donations.
    pub out_trade_no: Option<String>,
    /// The provider's transaction ID, once paid: unique, so a replayed notification or one
    /// transaction claimed for two donations changes nothing.
    pub transaction_id: Option<String>,
    /// The offline gift's reference (receipt book number, bank transaction reference).
    pub reference: Option<String>,
    /// The staff member who recorded an offline gift.
    pub recorded_by: Option<i64>,
    /// When the money was confirmed.
    pub confirmed_at: Option<DateTimeUtc>,
}

/// Whether a donation's money has arrived.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DonationStatus {
    /// Waiting for the payment provider to confirm the payment. Counts nowhere.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The money arrived: it counts in balances, totals and statistics, and has a receipt.
    #[default]
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// Never paid: the payment window passed. A late confirmation still counts it.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
}

/// How a donation's money came.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DonationChannel {
    /// Paid online through WeChat Pay, confirmed by its signed notification.
    #[sea_orm(string_value = "WECHAT_PAY")]
    WechatPay,
    /// Cash handed to the organization's staff, recorded by them with a receipt reference.
    #[sea_orm(string_value = "CASH")]
    Cash,
    /// A bank transfer to the organization, recorded by its staff with the bank's reference.
    #[sea_orm(string_value = "BANK_TRANSFER")]
    BankTransfer,
    /// Recorded before payments were verified (before this version): taken as given.
    #[default]
    #[sea_orm(string_value = "UNVERIFIED")]
    Unverified,
}

impl DonationChannel {
    /// Whether staff record it by hand.
    pub fn is_offline(self) -> bool {
        matches!(self, Self::Cash | Self::BankTransfer)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
