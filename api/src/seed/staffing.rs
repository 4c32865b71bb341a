//! Demo staffing (issue 20): a social-work operator that won the district's service purchase
//! and dispatches workers to the stations, and workers resident at them — as the article's
//! "驻站社工 + 外派社工" teams.

use chrono::{Duration, NaiveDate};
use entity::{
    account,
    staff_assignment::{AssignmentKind, SocialWorkerLevel},
};

use super::{
    SeedSummary,
    city::{create_org, register},
    data::DemoOrg,
};
use crate::{AppState, organizations::domain::OrganizationKind, staffing::service as staffing};

/// The operator: a social-work service center (社工机构).
const OPERATOR: DemoOrg = DemoOrg {
    name: "苏州姑苏区益众社会工作服务中心",
    region_code: "320508",
    address: "苏州市姑苏区十全街88号",
    latitude: 31.2990,
    longitude: 120.6330,
};

/// A demo social worker: phone, name, station index, dispatched or resident, level and
/// certificate number.
type DemoWorker = (
    &'static str,
    &'static str,
    usize,
    AssignmentKind,
    Option<(SocialWorkerLevel, &'static str)>,
);

const WORKERS: [DemoWorker; 4] = [
    (
        "13900000101",
        "沈晓雯",
        0,
        AssignmentKind::Resident,
        Some((SocialWorkerLevel::Intermediate, "SW-2021-32050801")),
    ),
    (
        "13900000102",
        "陆建峰",
        0,
        AssignmentKind::Dispatched,
        Some((SocialWorkerLevel::Assistant, "ASW-2023-32050817")),
    ),
    ("13900000103", "顾佳怡", 1, AssignmentKind::Dispatched, None),
    (
        "13900000104",
        "周敏",
        1,
        AssignmentKind::Resident,
        Some((SocialWorkerLevel::Senior, "SSW-2019-32050502")),
    ),
];

/// The demo social workers' phone numbers.
pub(super) fn phones() -> impl Iterator<Item = &'static str> {
    WORKERS.iter().map(|w| w.0)
}

/// Seed the operator and the workers' assignments (this year's service purchase); the
/// operator's key.
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
    city: i64,
    stations: &[i64],
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<i64> {
    let operator = create_org(
        state,
        admin,
        OrganizationKind::SocialOrg,
        Some(city),
        &OPERATOR,
    )
    .await?;
    summary.organizations += 1;
    for (phone, name, station, kind, cert) in WORKERS {
        let worker = register(state, phone, name).await?;
        summary.accounts += 1;
        let Some(&station) = stations.get(station) else {
            continue;
        };
        staffing::assign(
            &state.db,
            admin,
            staffing::Assign {
                station,
                account: worker.id,
                kind,
                operator: (kind == AssignmentKind::Dispatched).then_some(operator),
                starts_on: today - Duration::days(120),
                ends_on: Some(today + Duration::days(245)),
                qualification: cert.map(|c| c.0),
                certificate_number: cert.map(|c| c.1.to_owned()),
            },
        )
        .await?;
        summary.staff_assignments += 1;
    }
    Ok(operator)
}

/// A squad of the first station like the article's "晋邻" squad: the first volunteer leads,
/// the next ones joined (one by applying, the rest by invitation), and a first-aid course is
/// on record for the leader.
pub(super) async fn squad(
    state: &AppState,
    admin: &account::Model,
    station: i64,
    volunteers: &[account::Model],
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    use crate::squads::{service as squads, training};
    let Some((leader, rest)) = volunteers.split_first() else {
        return Ok(());
    };
    let s = squads::create(
        &state.db,
        admin,
        squads::NewSquad {
            organization: station,
            name: "晋邻志愿分队".into(),
            description: "小区党员、居民志愿者组成的长期分队：助老、环境整治、议事协商".into(),
            tags: vec!["党员".into(), "居民".into()],
            leaders: vec![leader.id],
        },
    )
    .await?;
    for (i, v) in rest.iter().take(5).enumerate() {
        if i == 0 {
            squads::apply(&state.db, v, s.id).await?;
            squads::approve(&state.db, leader, s.id, v.id).await?;
        } else {
            squads::invite(&state.db, leader, s.id, v.id).await?;
            squads::accept(&state.db, v, s.id).await?;
        }
    }
    training::record(
        &state.db,
        admin,
        training::NewTraining {
            account: leader.id,
            course: "红十字救护员培训".into(),
            completed_on: today - Duration::days(30),
            minutes: 960,
            issuer: station,
        },
    )
    .await?;
    summary.squads += 1;
    Ok(())
}
