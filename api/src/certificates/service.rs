//! Issuing and verifying certificates.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::{
    account,
    charity_event::{self as event, EventCategory},
    organization_closure as closure, service_certificate as cert, service_record as record, shift,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationTrait, Set,
};
use serde::{Deserialize, Serialize};

use crate::{
    authz,
    clock::city_offset,
    error::{AppError, AppResult, Noun},
    identity,
};

/// The line title of service answering help requests (which has no event).
pub const HELP_REQUESTS_TITLE: &str = "社区求助响应（就近服务）";

/// Longest period one certificate covers.
pub const MAX_PERIOD_DAYS: i64 = 3660;

/// One certified line: the volunteer's approved service in one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The event's title.
    pub event_title: String,
    /// The organization that ran it.
    pub organization_name: String,
    /// Its category.
    pub category: EventCategory,
    /// Day of the first shift served (China Standard Time).
    pub first_day: NaiveDate,
    /// Day of the last shift served.
    pub last_day: NaiveDate,
    /// Approved minutes.
    pub minutes: i64,
    /// Service records counted.
    pub records: i64,
}

/// What is asked for.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The volunteer; the caller when `None`.
    pub volunteer: Option<i64>,
    /// The issuing organization; when given, only service in its subtree counts. Required when
    /// staff issue for someone else.
    pub organization: Option<i64>,
    /// First day (China Standard Time).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

/// The lines of a certificate.
pub fn lines(c: &cert::Model) -> AppResult<Vec<Line>> {
    serde_json::from_str(&c.items)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("certificate {} lines: {e}", c.id)))
}

/// A fresh certificate number, `TXC-2026-K8M3-ZQ7P-4W9D`: the year and 60 random bits in
/// Crockford's base-32 (no I, L, O, U), so numbers cannot be guessed or read wrongly.
pub fn new_number(year: i32) -> String {
    crate::ids::random_number("TXC", year)
}

/// Normalize a number as typed (case, surrounding space, the letters people confuse).
pub fn normalize_number(raw: &str) -> String {
    raw.trim()
        .to_ascii_uppercase()
        .chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        // "TXC" itself has none of the confusable letters, the year neither.
        .collect()
}

/// Find a certificate by its number.
pub async fn find<C: ConnectionTrait>(db: &C, number: &str) -> AppResult<Option<cert::Model>> {
    let n = normalize_number(number);
    if n.len() > 32 {
        return Ok(None);
    }
    Ok(cert::Entity::find()
        .filter(cert::Column::Number.eq(n))
        .one(db)
        .await?)
}

/// Whether `viewer` may see a certificate in full (and download it): its volunteer, or staff
/// of the issuing organization.
pub async fn may_see_in_full<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    c: &cert::Model,
) -> AppResult<bool> {
    if authz::is_self(viewer, c.account_id) {
        return Ok(true);
    }
    authz::is_staff(db, viewer, c.organization_id).await
}

/// The deepest organization that is an ancestor of (or equal to) every one of `orgs`.
async fn common_ancestor<C: ConnectionTrait>(
    db: &C,
    orgs: &HashSet<i64>,
) -> AppResult<Option<i64>> {
    let rows = closure::Entity::find()
        .filter(closure::Column::DescendantId.is_in(orgs.iter().copied()))
        .all(db)
        .await?;
    // For each ancestor: how many of `orgs` it covers and its greatest distance to them.
    let mut cover: HashMap<i64, (usize, i32)> = HashMap::new();
    for r in rows {
        let e = cover.entry(r.ancestor_id).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(r.depth);
    }
    Ok(cover
        .into_iter()
        .filter(|(_, (n, _))| *n == orgs.len())
        .min_by_key(|(id, (_, depth))| (*depth, *id))
        .map(|(id, _)| id))
}

/// Issue a certificate of the volunteer's approved service in the period.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    req: IssueRequest,
) -> AppResult<cert::Model> {
    let volunteer = req.volunteer.unwrap_or(viewer.id);
    if volunteer != viewer.id {
        let Some(org) = req.organization else {
            return Err(AppError::bad_input(
                "organizationId",
                msg!(
                    "staff issue certificates in the name of their organization",
                    "工作人员须以所在组织的名义出具证明"
                ),
            ));
        };
        if !authz::is_staff(db, viewer, org).await? {
            return Err(AppError::Forbidden(msg!(
                "only the organization's staff issue certificates for others",
                "仅该组织的工作人员可为他人出具证明"
            )));
        }
        // Whether the account exists or has an identity is not told before it is known to have
        // served here: an unknown account simply has no service to certify.
    } else if let Some(org) = req.organization {
        crate::organizations::service::get(db, org)
            .await?
            .ok_or(AppError::NotFound(Noun::Organization))?;
    }
    let offset = city_offset();
    let today = Utc::now().with_timezone(&offset).date_naive();
    if req.from > req.to {
        return Err(AppError::bad_input(
            "from",
            msg!("must not be after `to`", "开始日期不能晚于结束日期"),
        ));
    }
    if req.to > today {
        return Err(AppError::bad_input(
            "to",
            msg!("must not be in the future", "结束日期不能晚于今天"),
        ));
    }
    if (req.to - req.from).num_days() >= MAX_PERIOD_DAYS {
        return Err(AppError::bad_input(
            "from",
            msg!(
                "a certificate covers at most ten years",
                "一份证明最多涵盖十年"
            ),
        ));
    }

    // Approved service with shifts starting in the period, joined with their events.
    let start = |d: NaiveDate| {
        offset
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    // Help-request service has no shift or event: it is one line per organization and category.
    let mut q = record::Entity::find()
        .select_only()
        .column(record::Column::Minutes)
        .column(record::Column::ServedAt)
        .column(event::Column::Id)
        .column(event::Column::Title)
        .column(record::Column::OrganizationId)
        .column(record::Column::Category)
        .join(JoinType::LeftJoin, record::Relation::Shift.def())
        .join(JoinType::LeftJoin, shift::Relation::Event.def())
        .filter(record::Column::AccountId.eq(volunteer))
        .filter(record::Column::Status.eq(record::RecordStatus::Approved))
        .filter(record::Column::ServedAt.gte(start(req.from)))
        .filter(record::Column::ServedAt.lt(start(req.to + Duration::days(1))));
    if let Some(org) = req.organization {
        q = q.filter(crate::authz::in_subtree(
            record::Column::OrganizationId,
            org,
        ));
    }
    type Row = (
        i32,
        chrono::DateTime<Utc>,
        Option<i64>,
        Option<String>,
        i64,
        EventCategory,
    );
    let rows: Vec<Row> = q.into_tuple().all(db).await?;
    let total: i64 = rows.iter().map(|r| i64::from(r.0)).sum();
    if total == 0 {
        return Err(AppError::bad_input(
            "from",
            msg!(
                "there is no approved service to certify in this period",
                "该时间段内没有已审核通过的服务记录"
            ),
        ));
    }
    let identity = identity::service::get(db, volunteer).await?.ok_or(
        AppError::IdentityRequired(msg!(
            "a certificate names the volunteer's legal name and ID: set it first (setMyIdentity)",
            "证明需载明志愿者的真实姓名和证件号码，请先完成实名认证"
        )),
    )?;
    let orgs: HashSet<i64> = rows.iter().map(|r| r.4).collect();
    let issuer = match req.organization {
        Some(org) => org,
        None => common_ancestor(db, &orgs).await?.ok_or_else(|| {
            AppError::bad_input(
                "organizationId",
                msg!(
                    "the service spans unrelated organizations: ask for one certificate per organization",
                    "服务涉及互不隶属的多个组织，请按组织分别申请证明"
                ),
            )
        })?,
    };
    let names = crate::organizations::service::get_many(db, orgs.iter().copied()).await?;

    // One line per event, in the order the service began.
    let mut by_event: BTreeMap<(Option<i64>, i64, String), Line> = BTreeMap::new();
    for (minutes, starts, event_id, title, org, category) in rows {
        let day = starts.with_timezone(&offset).date_naive();
        let line = by_event
            .entry((event_id, org, sea_orm::ActiveEnum::to_value(&category)))
            .or_insert_with(|| Line {
                event_title: title.unwrap_or_else(|| HELP_REQUESTS_TITLE.to_owned()),
                organization_name: names.get(&org).map(|o| o.name.clone()).unwrap_or_default(),
                category,
                first_day: day,
                last_day: day,
                minutes: 0,
                records: 0,
            });
        line.first_day = line.first_day.min(day);
        line.last_day = line.last_day.max(day);
        line.minutes += i64::from(minutes);
        line.records += 1;
    }
    let mut lines: Vec<Line> = by_event.into_values().filter(|l| l.minutes > 0).collect();
    lines.sort_by(|a, b| (a.first_day, &a.event_title).cmp(&(b.first_day, &b.event_title)));
    let items = serde_json::to_string(&lines).map_err(anyhow::Error::from)?;

    let now = Utc::now();
    let mut attempt = 0;
    loop {
        let row = cert::ActiveModel {
            number: Set(new_number(
                today.format("%Y").to_string().parse().unwrap_or(2026),
            )),
            account_id: Set(volunteer),
            organization_id: Set(issuer),
            issued_by: Set(viewer.id),
            period_from: Set(req.from),
            period_to: Set(req.to),
            legal_name: Set(identity.legal_name.clone()),
            volunteer_number: Set(crate::profiles::service::volunteer_number(volunteer)),
            id_type: Set(identity.id_type),
            id_masked: Set(identity.id_masked.clone()),
            total_minutes: Set(total),
            items: Set(items.clone()),
            issued_at: Set(now),
            ..Default::default()
        };
        match row.insert(db).await {
            Ok(c) => {
                tracing::info!(certificate_id = c.id, "certificate issued");
                // Staff issued it for the volunteer: they hear of it. (Not in one transaction
                // with the insert, whose clash retry needs a statement that may fail; a
                // notification lost here leaves the certificate itself intact.)
                if c.account_id != viewer.id {
                    crate::notifications::service::write(
                        db,
                        vec![crate::notifications::service::Notice::subject(
                            entity::notification::NotificationKind::CertificateIssued,
                            c.account_id,
                            c.id,
                        )],
                    )
                    .await?;
                }
                return Ok(c);
            }
            // 60 random bits: a clash is all but impossible, but never an error.
            Err(e)
                if attempt < 2
                    && matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_crockford_and_normalize_back() {
        let n = new_number(2026);
        assert_eq!(n.len(), "TXC-2026-XXXX-XXXX-XXXX".len());
        assert!(n.starts_with("TXC-2026-"));
        assert!(!n[9..].contains(['I', 'L', 'O', 'U']));
        assert_eq!(normalize_number(&format!("  {}  ", n.to_lowercase())), n);
        assert_ne!(new_number(2026), n);
        assert_eq!(
            normalize_number("txc-2026-o1l0-0000-0000"),
            "TXC-2026-0110-0000-0000"
        );
    }
}
