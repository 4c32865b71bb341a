//! What the load scripts share: a throwaway database, a city with one station and a published
//! campaign, published events with shifts, and volunteer accounts with access tokens — made
//! through the services, as the API would make them (accounts in bulk, for speed).
//!
//! Included by `benches/signups.rs`, `benches/launch/main.rs` and, through `#[path]`, by the
//! launch scenario's test in `tests/it/launch.rs`; not every user needs every item.
#![allow(dead_code)]

use api::{
    AppState,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service as accounts,
    },
    campaigns::service::{self as campaigns, CampaignStatus, NewCampaign},
    events::{
        domain::{EventCategory, EventStatus},
        service::{self as events, NewEvent},
    },
    geo::GeoPoint,
    organizations::{
        domain::{MemberRole, OrganizationKind},
        service::{self as orgs, NewOrganization},
    },
    shifts::service::{self as shifts, ShiftSpec},
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::account;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QueryOrder, Set};

/// The phone of the administrator (and organizer of the station) the scripts create.
pub const ADMIN_PHONE: &str = "13900000000";

/// Where the station's events are (Kunshan).
pub const CENTER: (f64, f64) = (31.3800, 120.9800);

/// The volunteer home feed of issue 5 (also in `benches/feed.lua`).
pub const FEED_QUERY: &str = "query($n: NearInput!) { shifts(first: 50, filter: {hasOpenSlots: true, near: $n}) { edges { node { id title startsAt remainingSlots mySignup { status } event { title address organization { name } campaign { title } } } } } }";

/// A database for one run: a temporary SQLite file, or a new PostgreSQL database on the server
/// `admin_url` names (dropped by [`BenchDb::drop_database`]).
pub struct BenchDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl BenchDb {
    /// A fresh database on `admin_url`'s PostgreSQL server, or SQLite when it is `None`/empty.
    pub async fn create(admin_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match admin_url {
            Some(admin) if !admin.is_empty() => {
                let name = format!("tongxing_bench_{}", uuid::Uuid::new_v4().simple());
                let conn = Database::connect(admin.as_str()).await.expect("connect");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let (scheme, rest) = admin.split_once("://").expect("url");
                let authority = rest.split('/').next().unwrap_or(rest);
                Self {
                    url: format!("{scheme}://{authority}/{name}"),
                    dir,
                    pg: Some((admin, name)),
                }
            }
            _ => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                ),
                dir,
                pg: None,
            },
        }
    }

    /// `PostgreSQL` or `SQLite`.
    pub fn backend(&self) -> &'static str {
        if self.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// Drop the PostgreSQL database (the SQLite file goes with the temporary directory).
    pub async fn drop_database(&self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(conn) = Database::connect(admin.as_str()).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The administrator, the station (under a district under the city) they organize, and a
/// published campaign of the station.
pub struct Station {
    pub admin: account::Model,
    pub id: i64,
    pub campaign_id: i64,
}

impl Station {
    /// Create the administrator, city, district, station and a published campaign.
    pub async fn create(state: &AppState) -> Self {
        let db = &state.db;
        accounts::create_admin(
            state,
            Phone::parse(ADMIN_PHONE, "p").expect("phone"),
            Password::parse("bench-password", "p").expect("password"),
            DisplayName::parse("管理员", "n").expect("name"),
        )
        .await
        .expect("admin");
        let admin = account::Entity::find()
            .filter(account::Column::Phone.eq(ADMIN_PHONE))
            .one(db)
            .await
            .expect("query")
            .expect("admin row");
        let mut parent = None;
        for (name, kind) in [
            ("苏州市", OrganizationKind::CityCenter),
            ("昆山市", OrganizationKind::DistrictCenter),
            ("亭林社工站", OrganizationKind::Station),
        ] {
            let o = orgs::create(
                db,
                &admin,
                NewOrganization {
                    name: name.into(),
                    kind,
                    parent_id: parent,
                    region_code: None,
                    address: None,
                    latitude: None,
                    longitude: None,
                },
            )
            .await
            .expect("organization");
            parent = Some(o.id);
        }
        let id = parent.expect("station");
        orgs::grant_membership(db, &admin, id, ADMIN_PHONE, MemberRole::Organizer)
            .await
            .expect("member");
        let campaign = campaigns::create(
            db,
            &admin,
            NewCampaign {
                organization_id: id,
                title: "慈善同心·志愿同行".into(),
                description: String::new(),
                starts_at: Utc::now(),
                ends_at: Utc::now() + Duration::days(365),
                volunteer_hours_goal: None,
                fundraising_goal_fen: None,
                cover_image_url: None,
            },
        )
        .await
        .expect("campaign");
        campaigns::transition(
            db,
            &admin,
            campaign.id,
            &[CampaignStatus::Draft],
            CampaignStatus::Published,
        )
        .await
        .expect("publish campaign");
        Self {
            admin,
            id,
            campaign_id: campaign.id,
        }
    }

    /// A published event of the station at `(latitude, longitude)` from `starts` for `hours`.
    pub async fn event(
        &self,
        state: &AppState,
        title: &str,
        at: (f64, f64),
        starts: DateTime<Utc>,
        hours: i64,
        in_campaign: bool,
    ) -> entity::charity_event::Model {
        let db = &state.db;
        // Whole seconds: PostgreSQL keeps microseconds (rounded), so a shift starting at the
        // same instant could otherwise land a nanosecond before its event.
        let starts = starts.trunc_subsecs(0);
        let e = events::create(
            db,
            &self.admin,
            NewEvent {
                organization_id: self.id,
                campaign_id: in_campaign.then_some(self.campaign_id),
                title: title.into(),
                description: String::new(),
                category: EventCategory::ElderlyCare,
                address: "前进西路86号".into(),
                location: GeoPoint::new(at.0, at.1, "p").expect("point"),
                starts_at: starts,
                ends_at: starts + Duration::hours(hours),
                auto_approve_verified: false,
                accept_location_evidence: false,
                project_id: None,
                need_id: None,
            },
        )
        .await
        .expect("event");
        events::transition(
            db,
            &self.admin,
            e.id,
            &[EventStatus::Draft],
            EventStatus::Published,
        )
        .await
        .expect("publish");
        e
    }

    /// A shift of `event` from `starts` until `ends`.
    pub async fn shift(
        &self,
        state: &AppState,
        event: i64,
        (starts, ends): (DateTime<Utc>, DateTime<Utc>),
        capacity: i32,
        waitlist: bool,
    ) -> entity::shift::Model {
        shifts::create(
            &state.db,
            &self.admin,
            event,
            ShiftSpec {
                title: "班次".into(),
                description: String::new(),
                starts_at: starts.trunc_subsecs(0),
                ends_at: ends.trunc_subsecs(0),
                capacity,
                waitlist_enabled: waitlist,
                required_skills: vec![],
                check_in_radius_meters: 200,
            },
        )
        .await
        .expect("shift")
    }

    /// `n` published events tomorrow and after on a 400 m grid around [`CENTER`], two shifts
    /// of 20 each, half of them in the campaign: what the home feed lists.
    pub async fn feed_events(&self, state: &AppState, n: usize) -> Vec<entity::shift::Model> {
        let mut made = Vec::new();
        for i in 0..n {
            let starts = Utc::now() + Duration::hours(24 + i as i64);
            let at = (
                CENTER.0 + (i as f64 % 10.0) * 0.004,
                CENTER.1 + (i as f64 / 10.0).floor() * 0.004,
            );
            let e = self
                .event(state, &format!("社区服务{i}"), at, starts, 6, i % 2 == 0)
                .await;
            for j in 0..2 {
                let from = starts + Duration::hours(2 * j);
                made.push(
                    self.shift(state, e.id, (from, from + Duration::hours(2)), 20, true)
                        .await,
                );
            }
        }
        made
    }
}

/// `n` volunteer accounts (phones `137…`, inserted in bulk) with an access token each, in
/// account order.
pub async fn volunteers(state: &AppState, n: usize) -> Vec<(i64, String)> {
    let db = &state.db;
    let now = Utc::now();
    let rows: Vec<account::ActiveModel> = (0..n)
        .map(|i| account::ActiveModel {
            phone: Set(format!("137{i:08}")),
            password_hash: Set("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$unused".into()),
            display_name: Set(format!("志愿者{i}")),
            is_system_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        account::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("volunteers");
    }
    account::Entity::find()
        .filter(account::Column::Phone.starts_with("137"))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await
        .expect("query")
        .into_iter()
        .map(|a| (a.id, state.jwt.issue(a.id).expect("token").0))
        .collect()
}
