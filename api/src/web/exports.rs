//! CSV exports for funders and the civil-affairs bureau:
//! `GET /exports/service-records.csv` and `GET /exports/donations.csv`, with
//! `?organizationId=…&from=…&to=…` (RFC 3339 times or `YYYY-MM-DD` days in China Standard Time;
//! `to` is exclusive). The organization's ORGANIZERs and ADMINs (and administrators above) only,
//! with the access token as `Authorization: Bearer`.
//!
//! The file is streamed: rows are read in keyset pages of [`PAGE`] and written as they come, so
//! memory does not grow with the export and no database connection is held while the client
//! reads. UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese right) and a
//! header row; phone numbers masked, anonymous donors anonymous.

use std::collections::{HashMap, HashSet};

use async_graphql::futures_util::{StreamExt, stream};
use axum::{
    Router,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{
    account, campaign, charity_event as event, charity_fund as fund, donation,
    help_request as request, service_record as record, shift,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use crate::{
    AppState,
    accounts::domain::mask_phone,
    authz,
    clock::city_offset,
    error::{AppError, AppResult, Noun},
    funds::service::ANONYMOUS_DONOR,
    ids::{self, NodeType},
};

/// Rows read per statement.
pub const PAGE: u64 = 500;

/// The export routes.
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/exports/service-records.csv", get(service_records))
        .route("/exports/donations.csv", get(donations))
        .with_state(state)
}

/// Query parameters of both exports.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportParams {
    /// Global ID of the organization (its whole subtree is exported).
    organization_id: Option<String>,
    /// Start (inclusive).
    from: Option<String>,
    /// End (exclusive).
    to: Option<String>,
}

/// A checked export request.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// The organization.
    pub organization_id: i64,
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
}

/// A time as RFC 3339, or a day (`YYYY-MM-DD`) starting at midnight China Standard Time.
fn parse_time(raw: &str, field: &str) -> AppResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| city_offset().from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                msg!(
                    "an RFC 3339 time or a YYYY-MM-DD day",
                    "请填写 RFC 3339 时间或 YYYY-MM-DD 格式的日期"
                ),
            )
        })
}

impl ExportParams {
    /// Check the parameters.
    pub fn parse(&self) -> AppResult<Period> {
        let org = self.organization_id.as_deref().ok_or_else(|| {
            AppError::bad_input("organizationId", msg!("is required", "请选择组织"))
        })?;
        let organization_id = ids::decode(
            NodeType::Organization,
            &async_graphql::ID(org.to_owned()),
            "organizationId",
        )?;
        let from = parse_time(
            self.from.as_deref().ok_or_else(|| {
                AppError::bad_input("from", msg!("is required", "请填写开始时间"))
            })?,
            "from",
        )?;
        let to = parse_time(
            self.to
                .as_deref()
                .ok_or_else(|| AppError::bad_input("to", msg!("is required", "请填写结束时间")))?,
            "to",
        )?;
        crate::stats::check_period(from, to)?;
        Ok(Period {
            organization_id,
            from,
            to,
        })
    }
}

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ServiceRecords,
    Donations,
}

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Self::ServiceRecords => "service-records",
            Self::Donations => "donations",
        }
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            Self::ServiceRecords => &[
                "record_id",
                "served_at",
                "organization",
                "volunteer_number",
                "volunteer_name",
                "volunteer_phone",
                "category",
                "source",
                "title",
                "minutes",
                "status",
                "verified",
            ],
            Self::Donations => &[
                "receipt_number",
                "donated_at",
                "organization",
                "target",
                "target_name",
                "amount_fen",
                "amount_yuan",
                "donor_name",
                "donor_phone",
                "anonymous",
                "channel",
                "reference",
            ],
        }
    }
}

async fn service_records(
    State(state): State<AppState>,
    Query(params): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    respond(state, Kind::ServiceRecords, params, headers).await
}

async fn donations(
    State(state): State<AppState>,
    Query(params): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    respond(state, Kind::Donations, params, headers).await
}

/// Who is asking, and may they: the organization's managers only.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    period: &Period,
    kind: Kind,
) -> AppResult<i64> {
    let viewer = super::caller::require_person(
        state,
        headers,
        msg!(
            "sign in: exports hold personal data (send the access token)",
            "请先登录：导出文件含个人信息"
        ),
    )
    .await?;
    crate::organizations::service::get(&state.db, period.organization_id)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(&state.db, &viewer, period.organization_id).await?;
    let action = match kind {
        Kind::ServiceRecords => "EXPORT_SERVICE_RECORDS",
        Kind::Donations => "EXPORT_DONATIONS",
    };
    crate::privacy::audit(
        &state.db,
        viewer.id,
        action,
        Some(period.organization_id),
        None,
        format!("{} to {}", period.from.to_rfc3339(), period.to.to_rfc3339()),
    )
    .await?;
    Ok(viewer.id)
}

async fn respond(
    state: AppState,
    kind: Kind,
    params: ExportParams,
    headers: HeaderMap,
) -> Response {
    let checked = match params.parse() {
        Ok(p) => authorize(&state, &headers, &p, kind)
            .await
            .map(|who| (p, who)),
        Err(e) => Err(e),
    };
    let (period, who) = match checked {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    tracing::info!(
        export = kind.file(),
        by = who,
        organization_id = period.organization_id,
        "export started"
    );
    let mut cursor = Cursor {
        state,
        kind,
        period,
        after: 0,
        started: false,
        done: false,
    };
    // The first page is read before answering, so a failure there is a 500, not an empty
    // "successful" file.
    let first = match cursor.next_chunk().await {
        Ok(first) => first.unwrap_or_default(),
        Err(e) => return e.into_response(),
    };
    let rest = stream::try_unfold(cursor, |mut c| async move {
        match c.next_chunk().await {
            Ok(Some(bytes)) => Ok(Some((bytes, c))),
            Ok(None) => Ok(None),
            Err(e) => {
                // The status line has gone out: all that is left is to cut the file short.
                e.log(c.kind.file());
                tracing::error!(export = c.kind.file(), "export failed mid-stream");
                Err(std::io::Error::other("export failed"))
            }
        }
    });
    let body =
        Body::from_stream(stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest));
    let disposition = format!(
        "attachment; filename=\"{}-{}.csv\"",
        kind.file(),
        period.from.with_timezone(&city_offset()).format("%Y%m%d")
    );
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            // Personal data: no shared cache keeps it.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Where a streaming export is.
struct Cursor {
    state: AppState,
    kind: Kind,
    period: Period,
    after: i64,
    started: bool,
    done: bool,
}

impl Cursor {
    /// The next piece of the file: the header first, then one page of rows at a time.
    async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut buf = Vec::with_capacity(64 * 1024);
        let first = !self.started;
        if first {
            self.started = true;
            buf.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut out = csv::Writer::from_writer(buf);
        if first {
            out.write_record(self.kind.header()).map_err(csv_err)?;
        }
        let (rows, last) = match self.kind {
            Kind::ServiceRecords => self.record_rows().await?,
            Kind::Donations => self.donation_rows().await?,
        };
        if rows.len() < PAGE as usize {
            self.done = true;
        }
        if let Some(last) = last {
            self.after = last;
        }
        for r in rows {
            out.write_record(&r).map_err(csv_err)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| csv_err(e.into_error().into()))?;
        Ok(Some(bytes))
    }

    async fn record_rows(&self) -> AppResult<(Vec<Vec<String>>, Option<i64>)> {
        let db = &self.state.db;
        let p = &self.period;
        let page = record::Entity::find()
            .filter(authz::in_subtree(
                record::Column::OrganizationId,
                p.organization_id,
            ))
            .filter(record::Column::ServedAt.gte(p.from))
            .filter(record::Column::ServedAt.lt(p.to))
            .filter(record::Column::Id.gt(self.after))
            .order_by_asc(record::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let last = page.last().map(|r| r.id);
        let people = people(db, page.iter().map(|r| r.account_id)).await?;
        let orgs = crate::organizations::service::get_many(
            db,
            page.iter()
                .map(|r| r.organization_id)
                .collect::<HashSet<_>>(),
        )
        .await?;
        // Titles: the shift's event, or the help request.
        let shifts: HashMap<i64, i64> = shift::Entity::find()
            .select_only()
            .column(shift::Column::Id)
            .column(shift::Column::EventId)
            .filter(shift::Column::Id.is_in(page.iter().filter_map(|r| r.shift_id)))
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let events: HashMap<i64, String> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .column(event::Column::Title)
            .filter(event::Column::Id.is_in(shifts.values().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let requests: HashMap<i64, String> = request::Entity::find()
            .select_only()
            .column(request::Column::Id)
            .column(request::Column::Title)
            .filter(request::Column::Id.is_in(page.iter().filter_map(|r| r.help_request_id)))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let rows = page
            .into_iter()
            .map(|r| {
                let (name, phone) = people.get(&r.account_id).cloned().unwrap_or_default();
                let (source, title) = match (r.shift_id, r.help_request_id) {
                    (Some(s), _) => (
                        "SHIFT",
                        shifts
                            .get(&s)
                            .and_then(|e| events.get(e))
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    (None, Some(h)) => (
                        "HELP_REQUEST",
                        requests.get(&h).cloned().unwrap_or_default(),
                    ),
                    (None, None) => ("", String::new()),
                };
                vec![
                    r.id.to_string(),
                    local(r.served_at),
                    text(
                        orgs.get(&r.organization_id)
                            .map(|o| o.name.clone())
                            .unwrap_or_default(),
                    ),
                    crate::profiles::service::volunteer_number(r.account_id),
                    text(name),
                    phone,
                    sea_orm::ActiveEnum::to_value(&r.category),
                    source.to_owned(),
                    text(title),
                    r.minutes.to_string(),
                    sea_orm::ActiveEnum::to_value(&r.status),
                    r.verified.to_string(),
                ]
            })
            .collect();
        Ok((rows, last))
    }

    async fn donation_rows(&self) -> AppResult<(Vec<Vec<String>>, Option<i64>)> {
        let db = &self.state.db;
        let p = &self.period;
        let page = donation::Entity::find()
            .filter(crate::funds::service::donated_within(p.organization_id))
            // Money that arrived in the period; pending and expired donations are no money.
            .filter(donation::Column::Status.eq(entity::donation::DonationStatus::Confirmed))
            .filter(donation::Column::ConfirmedAt.gte(p.from))
            .filter(donation::Column::ConfirmedAt.lt(p.to))
            .filter(donation::Column::Id.gt(self.after))
            .order_by_asc(donation::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let last = page.last().map(|d| d.id);
        let people = people(db, page.iter().filter_map(|d| d.account_id)).await?;
        let funds: HashMap<i64, fund::Model> = fund::Entity::find()
            .filter(fund::Column::Id.is_in(page.iter().filter_map(|d| d.fund_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let campaigns: HashMap<i64, campaign::Model> = campaign::Entity::find()
            .filter(campaign::Column::Id.is_in(page.iter().filter_map(|d| d.campaign_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let orgs = crate::organizations::service::get_many(
            db,
            funds
                .values()
                .map(|f| f.organization_id)
                .chain(campaigns.values().map(|c| c.organization_id))
                .collect::<HashSet<_>>(),
        )
        .await?;
        let rows = page
            .into_iter()
            .map(|d| {
                let (target, target_name, org) = match (d.fund_id, d.campaign_id) {
                    (Some(f), _) => {
                        let f = funds.get(&f);
                        (
                            "FUND",
                            f.map(|f| f.name.clone()).unwrap_or_default(),
                            f.map(|f| f.organization_id),
                        )
                    }
                    (None, Some(c)) => {
                        let c = campaigns.get(&c);
                        (
                            "CAMPAIGN",
                            c.map(|c| c.title.clone()).unwrap_or_default(),
                            c.map(|c| c.organization_id),
                        )
                    }
                    (None, None) => ("", String::new(), None),
                };
                let (donor, phone) = if d.anonymous {
                    (ANONYMOUS_DONOR.to_owned(), String::new())
                } else {
                    let phone = d
                        .account_id
                        .and_then(|a| people.get(&a))
                        .map(|p| p.1.clone())
                        .unwrap_or_default();
                    (d.donor_name.clone(), phone)
                };
                vec![
                    d.receipt_number,
                    local(d.confirmed_at.unwrap_or(d.created_at)),
                    text(
                        org.and_then(|o| orgs.get(&o))
                            .map(|o| o.name.clone())
                            .unwrap_or_default(),
                    ),
                    target.to_owned(),
                    text(target_name),
                    d.amount_fen.to_string(),
                    yuan(d.amount_fen),
                    text(donor),
                    phone,
                    d.anonymous.to_string(),
                    sea_orm::ActiveEnum::to_value(&d.channel),
                    text(d.reference.unwrap_or_default()),
                ]
            })
            .collect();
        Ok((rows, last))
    }
}

/// Names and masked phones of accounts.
async fn people(
    db: &sea_orm::DatabaseConnection,
    ids: impl Iterator<Item = i64>,
) -> AppResult<HashMap<i64, (String, String)>> {
    let ids: HashSet<i64> = ids.collect();
    Ok(account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .column(account::Column::DisplayName)
        .column(account::Column::Phone)
        .filter(account::Column::Id.is_in(ids))
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, name, phone)| (id, (name, mask_phone(&phone))))
        .collect())
}

/// Text a person typed, made safe for spreadsheets: a cell that starts like a formula (`=`,
/// `+`, `-`, `@`, tab, carriage return) gets a leading `'`, so it shows as text instead of
/// running (CSV injection).
fn text(s: impl Into<String>) -> String {
    let s = s.into();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn csv_err(e: csv::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing CSV: {e}"))
}

/// A time in China Standard Time, RFC 3339 to the second.
fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&city_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Fen as yuan with two decimals.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        fen.unsigned_abs() / 100,
        fen.unsigned_abs() % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(
            text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(text("+1"), "'+1");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("李小红"), "李小红");
        assert_eq!(text(""), "");
    }

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(100_000_000), "1000000.00");
    }

    #[test]
    fn days_are_china_midnight_and_times_are_rfc3339() {
        assert_eq!(
            parse_time("2026-11-01", "from").unwrap().to_rfc3339(),
            "2026-10-31T16:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-11-01T08:00:00+08:00", "from").unwrap(),
            parse_time("2026-11-01T00:00:00Z", "from").unwrap()
        );
        assert!(parse_time("yesterday", "from").is_err());
    }
}
