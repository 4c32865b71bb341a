//! Demo deliberation (issue 21): the article's squad council at 城北社区 — benches, fitness
//! equipment and an e-bike charging shed solved (the equipment paid by a micro-wish), rubbish
//! sorting and dog-keeping followed up, a residents' meeting with its minutes.

use chrono::{Duration, Utc};
use entity::{
    account,
    charity_event::{EventCategory, EventStatus},
    micro_wish,
    topic::{TopicCategory as C, TopicStatus as S},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::SeedSummary;
use crate::{
    AppState,
    deliberation::service::{self, NewMeeting, NewTopic},
    events::service::{self as events, NewEvent},
    geo::GeoPoint,
};

/// Raise, support and settle the demo topics of `community`, discussed at a residents'
/// meeting its `staff` (a manager) holds; the community's first micro-wish paid for the
/// equipment.
pub(super) async fn seed(
    state: &AppState,
    staff: &account::Model,
    residents: &[account::Model],
    community: i64,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    let db = &state.db;
    let starts_at = Utc::now() - Duration::days(3);
    let meeting = events::create(
        db,
        staff,
        NewEvent {
            organization_id: community,
            campaign_id: None,
            title: "城北社区居民议事会".into(),
            description: "议事小组与居民代表共商小区微更新与微治理事项。".into(),
            category: EventCategory::CommunityGovernance,
            address: "昆山市亭林街道城北社区党群服务中心".into(),
            location: GeoPoint::new(31.3905, 120.9715, "location")?,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
            auto_approve_verified: false,
            accept_location_evidence: false,
            project_id: None,
            need_id: None,
        },
    )
    .await?;
    events::transition(
        db,
        staff,
        meeting.id,
        &[EventStatus::Draft],
        EventStatus::Published,
    )
    .await?;
    summary.events += 1;
    let meeting = meeting.id;
    let wish = micro_wish::Entity::find()
        .filter(micro_wish::Column::OrganizationId.eq(community))
        .order_by_asc(micro_wish::Column::Id)
        .one(db)
        .await?
        .map(|w| w.id);
    /// Title, category, description, and the moves after the meeting.
    type Demo<'a> = (&'a str, C, &'a str, &'a [(S, &'a str)]);
    let topics: [Demo; 6] = [
        (
            "增设休闲座椅",
            C::Facilities,
            "小区中心花园没有座椅，老人散步走累了没处歇脚",
            &[
                (S::Discussing, ""),
                (S::Resolved, "议定增设 8 张座椅"),
                (S::Implemented, "座椅已安装"),
            ],
        ),
        (
            "增设健身器材",
            C::Facilities,
            "东侧空地闲置，居民希望安装几件健身器材",
            &[
                (S::Resolved, "议定安装 6 件器材"),
                (S::Implemented, "微心愿认领出资，器材已安装"),
            ],
        ),
        (
            "建电瓶车充电棚",
            C::Safety,
            "楼道里飞线充电有火灾隐患，希望建集中充电棚",
            &[(S::Discussing, ""), (S::Resolved, "议定在 5 号楼北侧建棚")],
        ),
        (
            "垃圾分类",
            C::Environment,
            "部分居民仍混投垃圾，需要有人在投放点督导",
            &[
                (S::Discussing, ""),
                (S::FollowingUp, "志愿者轮流值守投放点，持续跟进"),
            ],
        ),
        (
            "文明养犬",
            C::Neighbourhood,
            "遛狗不牵绳、不清理粪便，邻里意见较大",
            &[
                (S::Discussing, ""),
                (S::FollowingUp, "分批入户宣传，持续跟进"),
            ],
        ),
        (
            "楼道照明改造",
            C::Safety,
            "老楼楼道灯经常不亮，晚上上下楼不安全",
            &[],
        ),
    ];
    for (i, (title, category, description, path)) in topics.into_iter().enumerate() {
        let raiser = &residents[i % residents.len()];
        let t = service::raise(
            db,
            raiser,
            NewTopic {
                organization: community,
                title: title.into(),
                description: description.into(),
                category,
                photo_urls: Vec::new(),
            },
        )
        .await?;
        for r in residents {
            service::support(db, r, t.id).await?;
        }
        if i < 5 {
            service::record_meeting(
                db,
                staff,
                NewMeeting {
                    topic: t.id,
                    event: meeting,
                    attendees: 23,
                    minutes: format!("居民议事会讨论“{title}”，到会居民 23 人"),
                },
            )
            .await?;
        }
        for (status, note) in path.iter().filter(|(s, _)| *s != S::Discussing) {
            service::move_topic(db, staff, t.id, *status, note).await?;
        }
        if title == "增设健身器材" && wish.is_some() {
            service::link(
                db,
                staff,
                t.id,
                service::Links {
                    wish,
                    ..Default::default()
                },
            )
            .await?;
        }
        summary.topics += 1;
    }
    Ok(())
}
