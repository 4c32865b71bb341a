//! The demo city's charity side, through the service functions.

use anyhow::Context;
use chrono::{Duration, Utc};
use entity::account;

use super::SeedSummary;
use crate::{AppState, events::domain::EventCategory, geo::GeoPoint, validate};

/// The Tinglin station's charity side: a community fund with offline gifts (one anonymous) and a
/// disbursement, a donation to the campaign, two micro-wishes (one claimed), and two help
/// requests — one waiting to be dispatched, one offered to the nearest volunteers.
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
    organizer: &account::Model,
    station: i64,
    campaign: i64,
    volunteers: &[account::Model],
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    use crate::{
        funds::service::{
            self as funds, DonationTarget, NewDisbursement, NewFund, NewOfflineGift, OfflineChannel,
        },
        help::{
            dispatch,
            domain::Urgency,
            service::{self as help, NewHelpRequest},
        },
        wishes::service::{self as wishes, NewWish},
    };
    let db = &state.db;
    let fund = funds::create_fund(
        db,
        organizer,
        NewFund {
            organization_id: station,
            name: validate::title("亭林社区慈善基金", "name", 100)?,
            purpose: validate::text("助老助困、四点半课堂和社区微心愿。", "purpose", 2_000)?,
        },
    )
    .await
    .context("opening the demo fund")?;
    summary.funds += 1;
    let gifts: [(usize, DonationTarget, i64, bool, &str); 4] = [
        (
            0,
            DonationTarget::Fund(fund.id),
            50_000,
            false,
            "给社区老人添件冬衣",
        ),
        (1, DonationTarget::Fund(fund.id), 20_000, true, ""),
        (
            2,
            DonationTarget::Fund(fund.id),
            8_800,
            false,
            "四点半课堂加油",
        ),
        (
            3,
            DonationTarget::Campaign(campaign),
            100_000,
            false,
            "慈善同心，志愿同行",
        ),
    ];
    // Recorded by the receiving organization's staff as they arrived (the station's organizer
    // for its fund, the city's administrator for the city's campaign): the demo has no payment
    // provider, and online donations count only once one confirms them.
    for (n, (who, target, amount_fen, anonymous, message)) in gifts.into_iter().enumerate() {
        let staff = match target {
            DonationTarget::Fund(_) => organizer,
            DonationTarget::Campaign(_) => admin,
        };
        funds::record_offline_gift(
            db,
            staff,
            NewOfflineGift {
                target,
                amount_fen,
                channel: if n % 2 == 0 {
                    OfflineChannel::BankTransfer
                } else {
                    OfflineChannel::Cash
                },
                reference: format!("TL-2026-{:04}", n + 1),
                donor_name: volunteers[who].display_name.chars().take(50).collect(),
                anonymous,
                message: message.to_owned(),
                received_at: None,
            },
            &format!("seed-demo-donation-{n}"),
        )
        .await
        .context("recording a demo donation")?;
        summary.donations += 1;
    }
    funds::disburse(
        db,
        organizer,
        NewDisbursement {
            fund_id: fund.id,
            amount_fen: 30_000,
            purpose: "为12位独居老人购买冬衣".to_owned(),
            project_ref: "TL-2026-WINTER".to_owned(),
            project_id: None,
        },
        "seed-demo-disbursement-0",
    )
    .await
    .context("making a demo disbursement")?;

    for (title, story, budget_fen, alias) in [
        (
            "一台收音机",
            "独居的张奶奶爱听锡剧，旧收音机坏了。",
            15_000,
            "张奶奶",
        ),
        (
            "一套课外书",
            "小学三年级的小宇想读《十万个为什么》。",
            9_900,
            "小宇",
        ),
    ] {
        let w = wishes::post(
            db,
            organizer,
            NewWish {
                organization_id: station,
                title: title.to_owned(),
                story: story.to_owned(),
                budget_fen,
                beneficiary_alias: alias.to_owned(),
            },
        )
        .await
        .context("posting a demo micro-wish")?;
        if alias == "小宇" {
            let hold = Duration::hours(i64::from(state.config.wish_claim_hours));
            wishes::claim(
                db,
                &volunteers[1],
                w.id,
                hold,
                state.config.wish_claims_per_account,
            )
            .await
            .context("claiming a demo micro-wish")?;
        }
        summary.wishes += 1;
    }

    for (n, (title, details, skills, lat, lng)) in [
        (
            "独居老人需要陪同就医",
            "李爷爷，81岁，城北社区5栋301，家属电话138****2231，周四上午去市第一人民医院复诊。",
            &["driving"][..],
            31.3862,
            120.9731,
        ),
        (
            "台风前帮忙加固阳台花架",
            "周阿姨家，城北社区2栋102，独居，需要两个人。",
            &[][..],
            31.3880,
            120.9690,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
        let r = help::create(
            db,
            organizer,
            NewHelpRequest {
                organization_id: station,
                title: validate::title(title, "title", 100)?,
                details: validate::text(details, "details", 2_000)?,
                category: EventCategory::ElderlyCare,
                urgency: if n == 0 {
                    Urgency::High
                } else {
                    Urgency::Normal
                },
                location: GeoPoint::new(lat, lng, "location")?,
                needed_skills: validate::skills(&skills, "neededSkills")?,
                needed_by: Some(Utc::now() + Duration::days(2)),
                via_client: None,
                project_id: None,
                need_id: None,
            },
        )
        .await
        .context("reporting a demo help request")?;
        if n == 0 {
            let nearest =
                dispatch::nearby_volunteers(db, organizer, r.id, 2, state.config.dispatch_reach())
                    .await
                    .context("ranking demo volunteers")?;
            let ids: Vec<i64> = nearest.iter().map(|c| c.account_id).collect();
            if !ids.is_empty() {
                dispatch::dispatch(db, organizer, r.id, &ids)
                    .await
                    .context("dispatching a demo help request")?;
            }
        }
        summary.help_requests += 1;
    }
    Ok(())
}
