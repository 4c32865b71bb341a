//! The demo city's steps, each through the service functions as the API would run them:
//! the hierarchy, its organizers, the campaign, the events with their shifts, a weekly series,
//! the volunteers and their sign-ups.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::account;

use super::{DEMO_PASSWORD, SeedSummary, data::*};
use crate::{
    AppState,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service as accounts,
    },
    campaigns::service::{self as campaigns, CampaignStatus, NewCampaign},
    clock::city_offset,
    events::{
        domain::{EventCategory, EventStatus},
        service::{self as events, NewEvent},
    },
    geo::GeoPoint,
    organizations::{
        domain::{MemberRole, OrganizationKind},
        service::{self as organizations, NewOrganization},
    },
    profiles::service::{self as profiles, ProfileChanges},
    shifts::{
        series::{self, Frequency, Recurrence},
        service::{self as shifts, DEFAULT_CHECK_IN_RADIUS_M, ShiftSpec},
    },
    signups::service::{self as signups, SignupStatus},
    validate,
};

pub(super) fn phone(raw: &str) -> anyhow::Result<Phone> {
    Ok(Phone::parse(raw, "phone")?)
}

pub(super) fn password() -> anyhow::Result<Password> {
    Ok(Password::parse(DEMO_PASSWORD, "password")?)
}

pub(super) fn display_name(raw: &str) -> anyhow::Result<DisplayName> {
    Ok(DisplayName::parse(raw, "displayName")?)
}

/// `days` after `today` at `hour:minute`, city time.
pub(super) fn city_time(
    today: NaiveDate,
    days: u64,
    hour: u32,
    minute: u32,
) -> anyhow::Result<DateTime<Utc>> {
    let naive = (today + chrono::Days::new(days))
        .and_hms_opt(hour, minute, 0)
        .context("a time of day")?;
    Ok(city_offset()
        .from_local_datetime(&naive)
        .single()
        .context("a city time")?
        .with_timezone(&Utc))
}

pub(super) fn shift_spec(
    title: &str,
    description: &str,
    starts_at: DateTime<Utc>,
    minutes: i64,
    capacity: i32,
    waitlist: bool,
    skills: &[&str],
) -> anyhow::Result<ShiftSpec> {
    let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
    Ok(ShiftSpec {
        title: validate::title(title, "shift.title", 100)?,
        description: validate::text(description, "shift.description", 5_000)?,
        starts_at,
        ends_at: starts_at + Duration::minutes(minutes),
        capacity,
        waitlist_enabled: waitlist,
        required_skills: validate::skills(&skills, "shift.requiredSkills")?,
        check_in_radius_meters: DEFAULT_CHECK_IN_RADIUS_M,
    })
}

/// The phones of every demo account.
pub(super) fn demo_phones() -> Vec<&'static str> {
    std::iter::once(ADMIN_PHONE)
        .chain(ORGANIZERS.iter().map(|o| o.phone))
        .chain(VOLUNTEERS.iter().map(|v| v.phone))
        .chain(super::staffing::phones())
        .chain(std::iter::once(super::projects::EVALUATOR_PHONE))
        .collect()
}

/// Create an organization as `admin`, with the same checks as `createOrganization`.
pub(super) async fn create_org(
    state: &AppState,
    admin: &account::Model,
    kind: OrganizationKind,
    parent_id: Option<i64>,
    org: &DemoOrg,
) -> anyhow::Result<i64> {
    let new = NewOrganization {
        name: organizations::parse_name(org.name, "name")?,
        kind,
        parent_id,
        region_code: Some(organizations::parse_region_code(
            org.region_code,
            "regionCode",
        )?),
        address: Some(organizations::parse_address(org.address, "address")?),
        latitude: Some(org.latitude),
        longitude: Some(org.longitude),
    };
    let created = organizations::create(&state.db, admin, new)
        .await
        .with_context(|| format!("creating the organization {}", org.name))?;
    Ok(created.id)
}

/// Register a demo account (as `register` would) and end the session that registering opens.
pub(super) async fn register(
    state: &AppState,
    raw_phone: &str,
    name: &str,
) -> anyhow::Result<account::Model> {
    let session =
        accounts::register_proven(state, phone(raw_phone)?, password()?, display_name(name)?)
            .await
            .with_context(|| format!("registering the demo account {name}"))?;
    accounts::logout(state, &session.refresh_token).await?;
    Ok(session.account)
}

/// The hierarchy: city center, district centers, stations, rooms and a charity; returns the
/// city center and the stations.
pub(super) async fn hierarchy(
    state: &AppState,
    admin: &account::Model,
    summary: &mut SeedSummary,
) -> anyhow::Result<(i64, Vec<i64>)> {
    let city = create_org(state, admin, OrganizationKind::CityCenter, None, &CITY).await?;
    let mut districts = Vec::new();
    for d in &DISTRICTS {
        districts.push(
            create_org(
                state,
                admin,
                OrganizationKind::DistrictCenter,
                Some(city),
                d,
            )
            .await?,
        );
    }
    let mut stations = Vec::new();
    for (district, s) in &STATIONS {
        stations.push(
            create_org(
                state,
                admin,
                OrganizationKind::Station,
                Some(districts[*district]),
                s,
            )
            .await?,
        );
    }
    for (station, r) in &ROOMS {
        create_org(
            state,
            admin,
            OrganizationKind::Room,
            Some(stations[*station]),
            r,
        )
        .await?;
    }
    create_org(
        state,
        admin,
        OrganizationKind::Charity,
        Some(city),
        &CHARITY,
    )
    .await?;
    summary.organizations = 1 + DISTRICTS.len() + STATIONS.len() + ROOMS.len() + 1;
    Ok((city, stations))
}

/// The stations' organizers: for each station, who organizes it (the administrator where
/// nobody does).
pub(super) async fn organizers(
    state: &AppState,
    admin: &account::Model,
    stations: &[i64],
    summary: &mut SeedSummary,
) -> anyhow::Result<Vec<account::Model>> {
    let db = &state.db;
    // Organizers of the stations.
    let mut organizer_of = vec![admin.clone(); STATIONS.len()];
    for o in &ORGANIZERS {
        let acc = register(state, o.phone, o.name).await?;
        summary.accounts += 1;
        for &s in o.stations {
            organizations::grant_membership(db, admin, stations[s], o.phone, MemberRole::Organizer)
                .await
                .context("adding a demo organizer")?;
            organizer_of[s] = acc.clone();
        }
    }
    Ok(organizer_of)
}

/// The city's campaign, published.
pub(super) async fn campaign(
    state: &AppState,
    admin: &account::Model,
    city: i64,
    now: DateTime<Utc>,
    summary: &mut SeedSummary,
) -> anyhow::Result<i64> {
    let db = &state.db;
    // The city's campaign, running from a week ago for three months.
    let campaign = campaigns::create(
        db,
        admin,
        NewCampaign {
            organization_id: city,
            title: validate::title("慈善同心·志愿同行", "title", 100)?,
            description: validate::text(
                "苏州市“五社联动”年度志愿服务与慈善募集行动：全市社工站、社工室、社会组织和慈善力量一起，\
                 为老人、儿童和困难家庭提供志愿服务。目标五千志愿服务小时、五十万元善款。",
                "description",
                10_000,
            )?,
            starts_at: now - Duration::days(7),
            ends_at: now + Duration::days(90),
            volunteer_hours_goal: Some(5_000),
            fundraising_goal_fen: Some(50_000_000),
            cover_image_url: None,
        },
    )
    .await
    .context("creating the demo campaign")?;
    campaigns::transition(
        db,
        admin,
        campaign.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
    )
    .await
    .context("publishing the demo campaign")?;
    summary.campaigns = 1;
    Ok(campaign.id)
}

/// The events of [`EVENTS`] with their shifts; returns each event's shift keys.
pub(super) async fn events(
    state: &AppState,
    organizer_of: &[account::Model],
    stations: &[i64],
    campaign: i64,
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<Vec<Vec<i64>>> {
    let db = &state.db;
    // Events with their shifts, created as drafts by the station's organizer, then published.
    let mut event_shifts: Vec<Vec<i64>> = Vec::new();
    for e in &EVENTS {
        let organizer = &organizer_of[e.station];
        let starts_at = city_time(today, e.days, e.hour, e.minute)?;
        let created = events::create(
            db,
            organizer,
            NewEvent {
                organization_id: stations[e.station],
                campaign_id: e.in_campaign.then_some(campaign),
                title: validate::title(e.title, "title", 100)?,
                description: validate::text(e.description, "description", 10_000)?,
                category: e.category,
                address: validate::title(e.address, "address", 256)?,
                location: GeoPoint::new(e.latitude, e.longitude, "location")?,
                starts_at,
                ends_at: starts_at + Duration::minutes(e.minutes),
                auto_approve_verified: false,
                accept_location_evidence: false,
                project_id: None,
                need_id: None,
            },
        )
        .await
        .with_context(|| format!("creating the demo event {}", e.title))?;
        let mut ids = Vec::new();
        for s in e.shifts {
            let spec = shift_spec(
                s.title,
                s.description,
                starts_at + Duration::minutes(s.offset_minutes),
                s.minutes,
                s.capacity,
                s.waitlist,
                s.skills,
            )?;
            let shift = shifts::create(db, organizer, created.id, spec)
                .await
                .with_context(|| format!("creating a shift of {}", e.title))?;
            ids.push(shift.id);
        }
        events::transition(
            db,
            organizer,
            created.id,
            &[EventStatus::Draft],
            EventStatus::Published,
        )
        .await
        .with_context(|| format!("publishing the demo event {}", e.title))?;
        summary.events += 1;
        summary.shifts += ids.len();
        event_shifts.push(ids);
    }
    Ok(event_shifts)
}

/// A weekly after-school class in the Tinglin station: one event spanning four weeks, one
/// shift a week from a recurring series; returns the shifts' keys.
pub(super) async fn weekly_series(
    state: &AppState,
    organizer: &account::Model,
    station: i64,
    campaign: i64,
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<Vec<i64>> {
    let db = &state.db;
    let first = city_time(today, 2, 16, 30)?;
    let starts_at = first - Duration::minutes(30);
    let ends_at = first + Duration::weeks(i64::from(SERIES_WEEKS) - 1) + Duration::hours(2);
    let e = events::create(
        db,
        organizer,
        NewEvent {
            organization_id: station,
            campaign_id: Some(campaign),
            title: validate::title("四点半课堂", "title", 100)?,
            description: validate::text(
                "每周一次，放学后在城北社区陪伴双职工家庭的孩子写作业、做手工。",
                "description",
                10_000,
            )?,
            category: EventCategory::Children,
            address: validate::title("昆山市亭林街道城北社区服务中心三楼", "address", 256)?,
            location: GeoPoint::new(31.3901, 120.9712, "location")?,
            starts_at,
            ends_at,
            auto_approve_verified: true,
            // A community room the station's own staff run: a phone's location will do.
            accept_location_evidence: true,
            project_id: None,
            need_id: None,
        },
    )
    .await
    .context("creating the demo weekly event")?;
    let template = shift_spec(
        "作业陪伴",
        "陪孩子完成作业，组织手工和阅读活动。",
        first,
        90,
        6,
        true,
        &[],
    )?;
    let rule = Recurrence {
        frequency: Frequency::Weekly,
        by_weekday: Vec::new(),
        until: None,
        count: Some(SERIES_WEEKS),
    };
    let created = series::create_series(db, organizer, e.id, template, rule)
        .await
        .context("creating the demo weekly series")?;
    events::transition(
        db,
        organizer,
        e.id,
        &[EventStatus::Draft],
        EventStatus::Published,
    )
    .await
    .context("publishing the demo weekly event")?;
    summary.events += 1;
    summary.shifts += created.len();
    Ok(created.into_iter().map(|s| s.id).collect())
}

/// The volunteers of [`VOLUNTEERS`], with their profiles.
pub(super) async fn volunteers(
    state: &AppState,
    summary: &mut SeedSummary,
) -> anyhow::Result<Vec<account::Model>> {
    let db = &state.db;
    // Volunteers with profiles.
    let mut volunteers = Vec::new();
    for v in &VOLUNTEERS {
        let acc = register(state, v.phone, v.name).await?;
        let skills: Vec<String> = v.skills.iter().map(|s| (*s).to_owned()).collect();
        profiles::update(
            db,
            acc.id,
            ProfileChanges {
                skills: Some(validate::skills(&skills, "skills")?),
                bio: Some(validate::text(v.bio, "bio", 1_000)?),
                home: Some(GeoPoint::new(v.latitude, v.longitude, "homeLocation")?),
                available_for_dispatch: Some(true),
            },
        )
        .await
        .context("filling a demo volunteer profile")?;
        summary.accounts += 1;
        volunteers.push(acc);
    }
    Ok(volunteers)
}

/// The sign-ups of [`SIGNUPS`].
pub(super) async fn sign_ups(
    state: &AppState,
    volunteers: &[account::Model],
    event_shifts: &[Vec<i64>],
    series_shifts: &[i64],
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    let db = &state.db;
    // A few sign-ups, each with its own idempotency key.
    for (n, (volunteer, target)) in SIGNUPS.iter().enumerate() {
        let shift_id = match target {
            Target::Event(e, s) => event_shifts[*e][*s],
            Target::Series(i) => series_shifts[*i],
        };
        let key = format!("seed-demo-signup-{n}");
        let row = signups::sign_up(db, &volunteers[*volunteer], shift_id, &key)
            .await
            .context("signing up a demo volunteer")?;
        match row.status {
            SignupStatus::Confirmed => summary.signups_confirmed += 1,
            SignupStatus::Waitlisted => summary.signups_waitlisted += 1,
            _ => {}
        }
    }
    Ok(())
}
