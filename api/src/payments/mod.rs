//! Online payments: the provider that takes the donor's money and tells us, in a signed
//! notification, that it arrived. Only that notification confirms a donation
//! ([`crate::funds::service::confirm_payment`]); nothing the donor's phone says does.
//!
//! One provider today, WeChat Pay (API v3, [`wechat`]), turned on by `TONGXING_WECHATPAY_MCHID`.
//! Without it, online donations answer `SERVICE_UNAVAILABLE` and staff record offline gifts.

pub mod wechat;

pub use wechat::WechatPay;

/// What a confirmed payment says, after its signature and encryption were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paid {
    /// Our order number (`TXO-…`).
    pub out_trade_no: String,
    /// The provider's transaction ID.
    pub transaction_id: String,
    /// What was paid, in fen.
    pub total_fen: i64,
    /// When it was paid, as the provider says.
    pub paid_at: chrono::DateTime<chrono::Utc>,
}

/// The payment provider the configuration names, if any.
pub fn from_config(
    config: &crate::config::Config,
) -> anyhow::Result<Option<std::sync::Arc<WechatPay>>> {
    Ok(match config.wechatpay_mchid.as_deref() {
        None | Some("") => None,
        Some(_) => Some(std::sync::Arc::new(WechatPay::from_config(config)?)),
    })
}
