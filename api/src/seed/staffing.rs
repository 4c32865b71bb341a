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

/// Seed the operator and the workers' assignments (this year's service purchase).
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
    city: i64,
    stations: &[i64],
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
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
    Ok(())
}
