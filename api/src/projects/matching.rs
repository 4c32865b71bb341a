//! 精准对接: ranking a community's resources and projects against its open needs.
//!
//! A candidate is scored on four things, weights summing to 1:
//! - **field** (0.4): it serves the need's field;
//! - **skills** (0.3): the share of the need's skills it brings (all of it when the need names
//!   none);
//! - **place** (0.2): 1 in the same organization or within 1 km, falling linearly to 0 at
//!   20 km (0 when either place is unknown);
//! - **time** (0.1): 1 when its availability covers the need's window, 0.5 when it overlaps.
//!
//! A candidate that neither serves the field nor brings any skill, or whose availability does
//! not meet the need's window at all, is not a match; nor is one off the need's own line of the
//! network (it could not answer it), or a resource the caller may not list. Ties go to the nearer, then to resources
//! before projects, then to the older entry, so the order is the same on every run.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entity::{
    account,
    community_need::{self as need, NeedStatus},
    community_resource as resource, organization, organization_closure as closure,
    service_project::{self as project, ServiceField},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Query,
};

use crate::{
    authz,
    error::{AppError, AppResult},
    geo::GeoPoint,
    validate,
};

/// Weight of serving the need's field.
const FIELD: f64 = 0.4;
/// Weight of the skills brought.
const SKILLS: f64 = 0.3;
/// Weight of being near.
const PLACE: f64 = 0.2;
/// Weight of being available when needed.
const TIME: f64 = 0.1;
/// Distance within which a candidate counts as next door, in meters.
const NEAR_M: f64 = 1_000.0;
/// Distance beyond which place adds nothing, in meters.
const FAR_M: f64 = 20_000.0;

/// Open needs one call ranks at most.
pub const MAX_NEEDS: u64 = 200;
/// Candidates one call considers at most (resources, and projects, each).
const MAX_CANDIDATES: u64 = 5_000;
/// Matches per need at most.
pub const MAX_PER_NEED: usize = 20;

/// A window of time, open on either side when `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Window {
    /// From.
    pub from: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn overlaps(&self, other: &Window) -> bool {
        let starts_before_other_ends = match (self.from, other.until) {
            (Some(f), Some(u)) => f < u,
            _ => true,
        };
        let other_starts_before_self_ends = match (other.from, self.until) {
            (Some(f), Some(u)) => f < u,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }

    fn covers(&self, other: &Window) -> bool {
        let from_ok = match (self.from, other.from) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a <= b,
        };
        let until_ok = match (self.until, other.until) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        };
        from_ok && until_ok
    }
}

/// What a need asks for.
#[derive(Clone, Debug)]
pub struct Ask {
    /// Its field.
    pub field: ServiceField,
    /// Its skills (normalized).
    pub skills: Vec<String>,
    /// Where.
    pub place: Option<GeoPoint>,
    /// Its organization.
    pub organization: i64,
    /// When.
    pub window: Window,
}

/// What a candidate offers.
#[derive(Clone, Debug)]
pub struct Offer {
    /// Fields it serves.
    pub fields: Vec<ServiceField>,
    /// Skills it brings.
    pub skills: Vec<String>,
    /// Where.
    pub place: Option<GeoPoint>,
    /// Its organization.
    pub organization: i64,
    /// When it is available.
    pub window: Window,
}

/// Why a candidate matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum MatchReason {
    /// It serves the need's field (领域匹配).
    Field,
    /// It brings some of the skills needed (技能匹配).
    Skills,
    /// It is in the same organization or within 5 km (就近).
    Nearby,
    /// Its availability covers the whole time needed (时间匹配).
    Available,
}

/// How well an offer answers an ask.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// 0 to 1.
    pub score: f64,
    /// Skills it brings that the need names.
    pub skills_covered: Vec<String>,
    /// Meters between the two places, when both are known.
    pub distance_m: Option<f64>,
    /// Why it matched.
    pub reasons: Vec<MatchReason>,
}

/// Score `offer` against `ask`; `None` when it is not a match (see the module documentation).
pub fn score(ask: &Ask, offer: &Offer) -> Option<Score> {
    if !offer.window.overlaps(&ask.window) {
        return None;
    }
    let field = offer.fields.contains(&ask.field);
    let covered: Vec<String> = ask
        .skills
        .iter()
        .filter(|s| offer.skills.contains(s))
        .cloned()
        .collect();
    if !field && covered.is_empty() {
        return None;
    }
    let mut reasons = Vec::new();
    let mut total = 0.0;
    if field {
        total += FIELD;
        reasons.push(MatchReason::Field);
    }
    if ask.skills.is_empty() {
        total += SKILLS;
    } else {
        total += SKILLS * covered.len() as f64 / ask.skills.len() as f64;
        if !covered.is_empty() {
            reasons.push(MatchReason::Skills);
        }
    }
    let distance_m = match (ask.place, offer.place) {
        (Some(a), Some(b)) => Some(a.distance_to(&b)),
        _ => None,
    };
    let closeness = if offer.organization == ask.organization {
        1.0
    } else {
        match distance_m {
            Some(d) if d <= NEAR_M => 1.0,
            Some(d) if d >= FAR_M => 0.0,
            Some(d) => (FAR_M - d) / (FAR_M - NEAR_M),
            None => 0.0,
        }
    };
    total += PLACE * closeness;
    if offer.organization == ask.organization || distance_m.is_some_and(|d| d <= 5_000.0) {
        reasons.push(MatchReason::Nearby);
    }
    if offer.window.covers(&ask.window) {
        total += TIME;
        reasons.push(MatchReason::Available);
    } else {
        total += TIME * 0.5;
    }
    Some(Score {
        score: (total * 1000.0).round() / 1000.0,
        skills_covered: covered,
        distance_m,
        reasons,
    })
}

/// A candidate that matched.
#[derive(Clone, Debug)]
pub enum Candidate {
    /// A listed resource.
    Resource(resource::Model),
    /// A running or coming project.
    Project(project::Model),
}

impl Candidate {
    fn rank_key(&self) -> (u8, i64) {
        match self {
            Candidate::Resource(r) => (0, r.id),
            Candidate::Project(p) => (1, p.id),
        }
    }
}

/// One need with its best matches.
#[derive(Clone, Debug)]
pub struct NeedMatches {
    /// The open need.
    pub need: need::Model,
    /// Its matches, best first.
    pub matches: Vec<(Candidate, Score)>,
}

/// Order matches: best score, then nearer (unknown last), then resources before projects, then
/// the older entry.
pub fn rank(matches: &mut [(Candidate, Score)]) {
    rank_by(matches, Candidate::rank_key);
}

/// [`rank`] over scores whose candidates `key` names.
fn rank_by<T>(matches: &mut [(T, Score)], key: impl Fn(&T) -> (u8, i64)) {
    matches.sort_by(|(ta, a), (tb, b)| by_rank(a, b).then_with(|| key(ta).cmp(&key(tb))));
}

fn by_rank(a: &Score, b: &Score) -> std::cmp::Ordering {
    b.score.total_cmp(&a.score).then_with(|| {
        let da = a.distance_m.unwrap_or(f64::INFINITY);
        let db = b.distance_m.unwrap_or(f64::INFINITY);
        da.total_cmp(&db)
    })
}

fn place(
    lat: Option<f64>,
    lng: Option<f64>,
    org: Option<&organization::Model>,
) -> Option<GeoPoint> {
    match (lat, lng) {
        (Some(latitude), Some(longitude)) => Some(GeoPoint {
            latitude,
            longitude,
        }),
        _ => {
            let o = org?;
            Some(GeoPoint {
                latitude: o.latitude?,
                longitude: o.longitude?,
            })
        }
    }
}

/// A city date's start, as an instant.
fn city_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(crate::clock::city_offset())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Rank the resources and projects of `org`'s line of the hierarchy (it, everything below it,
/// and everything above it) against the open needs of `org` and below it (one need when
/// `need_id` is given), at most `per_need` matches each. The organization's staff only.
pub async fn match_needs<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org: i64,
    need_id: Option<i64>,
    per_need: usize,
) -> AppResult<Vec<NeedMatches>> {
    if !(1..=MAX_PER_NEED).contains(&per_need) {
        return Err(AppError::bad_input(
            "first",
            msg!("1 to 20 matches per need", "每项需求返回 1 至 20 条匹配"),
        ));
    }
    crate::organizations::service::get(db, org)
        .await?
        .ok_or(AppError::NotFound(crate::error::Noun::Organization))?;
    if !authz::is_staff(db, viewer, org).await? {
        return Err(AppError::Forbidden(msg!(
            "only the organization's staff match its needs",
            "只有本组织的工作人员可以进行需求对接"
        )));
    }
    let mut needs = need::Entity::find()
        .filter(authz::in_subtree(need::Column::OrganizationId, org))
        .filter(need::Column::Status.eq(NeedStatus::Open));
    if let Some(id) = need_id {
        needs = needs.filter(need::Column::Id.eq(id));
    }
    let needs = needs
        .order_by_asc(need::Column::Id)
        .limit(MAX_NEEDS)
        .all(db)
        .await?;
    if needs.is_empty() {
        return Ok(Vec::new());
    }
    // The line of the hierarchy: below `org`, and above it.
    let line = Condition::any()
        .add(authz::in_subtree(resource::Column::OrganizationId, org))
        .add(
            resource::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(closure::Column::AncestorId)
                    .from(closure::Entity)
                    .and_where(closure::Column::DescendantId.eq(org))
                    .to_owned(),
            ),
        );
    let now = chrono::Utc::now();
    let resources = resource::Entity::find()
        .filter(line)
        .filter(resource::Column::Active.eq(true))
        .filter(
            Condition::any()
                .add(resource::Column::AvailableUntil.is_null())
                .add(resource::Column::AvailableUntil.gt(now)),
        )
        .order_by_desc(resource::Column::Id)
        .limit(MAX_CANDIDATES)
        .all(db)
        .await?;
    // Resources are the staff's: only those of organizations the caller is staff of (an
    // organizer of a room sees its own and its rooms', not the district's).
    let seen = authz::staff_of_many(
        db,
        viewer,
        &resources
            .iter()
            .map(|r| r.organization_id)
            .collect::<Vec<_>>(),
    )
    .await?;
    let resources: Vec<resource::Model> = resources
        .into_iter()
        .filter(|r| seen.contains(&r.organization_id))
        .collect();
    let project_line = Condition::any()
        .add(authz::in_subtree(project::Column::OrganizationId, org))
        .add(
            project::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(closure::Column::AncestorId)
                    .from(closure::Entity)
                    .and_where(closure::Column::DescendantId.eq(org))
                    .to_owned(),
            ),
        );
    let projects = project::Entity::find()
        .filter(project_line)
        .filter(project::Column::EndsOn.gte(crate::staffing::service::today()))
        .order_by_desc(project::Column::Id)
        .limit(MAX_CANDIDATES)
        .all(db)
        .await?;
    // Which organizations are on one line (one above the other): a need is answered only from
    // its own community's line, as `check_need` demands.
    let involved: Vec<i64> = needs
        .iter()
        .map(|n| n.organization_id)
        .chain(resources.iter().map(|r| r.organization_id))
        .chain(projects.iter().map(|p| p.organization_id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let pairs: std::collections::HashSet<(i64, i64)> = closure::Entity::find()
        .select_only()
        .column(closure::Column::AncestorId)
        .column(closure::Column::DescendantId)
        .filter(closure::Column::AncestorId.is_in(involved.iter().copied()))
        .filter(closure::Column::DescendantId.is_in(involved.iter().copied()))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let on_line = |a: i64, b: i64| a == b || pairs.contains(&(a, b)) || pairs.contains(&(b, a));
    let orgs: HashMap<i64, organization::Model> = crate::organizations::service::get_many(
        db,
        needs
            .iter()
            .map(|n| n.organization_id)
            .chain(resources.iter().map(|r| r.organization_id))
            .chain(projects.iter().map(|p| p.organization_id)),
    )
    .await?;
    let offers: Vec<(Candidate, Offer)> = resources
        .into_iter()
        .map(|r| {
            let offer = Offer {
                fields: super::lists::fields_from_db(&r.fields),
                skills: validate::skills_from_db(&r.skills),
                place: place(r.latitude, r.longitude, orgs.get(&r.organization_id)),
                organization: r.organization_id,
                window: Window {
                    from: r.available_from,
                    until: r.available_until,
                },
            };
            (Candidate::Resource(r), offer)
        })
        .chain(projects.into_iter().map(|p| {
            let offer = Offer {
                fields: vec![p.field],
                skills: Vec::new(),
                place: place(None, None, orgs.get(&p.organization_id)),
                organization: p.organization_id,
                window: Window {
                    from: city_midnight(p.starts_on),
                    until: p.ends_on.succ_opt().and_then(city_midnight),
                },
            };
            (Candidate::Project(p), offer)
        }))
        .collect();
    Ok(needs
        .into_iter()
        .map(|n| {
            let ask = Ask {
                field: n.field,
                skills: validate::skills_from_db(&n.skills),
                place: place(n.latitude, n.longitude, orgs.get(&n.organization_id)),
                organization: n.organization_id,
                window: Window {
                    from: n.needed_from,
                    until: n.needed_until,
                },
            };
            // Score by position; only the best `per_need` rows are copied out.
            let mut scored: Vec<(usize, Score)> = offers
                .iter()
                .enumerate()
                .filter(|(_, (_, o))| on_line(o.organization, ask.organization))
                .filter_map(|(i, (_, o))| score(&ask, o).map(|s| (i, s)))
                .collect();
            rank_by(&mut scored, |i| offers[*i].0.rank_key());
            scored.truncate(per_need);
            let matches = scored
                .into_iter()
                .map(|(i, s)| (offers[i].0.clone(), s))
                .collect();
            NeedMatches { need: n, matches }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 12, 10, h, 0, 0).unwrap())
    }

    fn ask() -> Ask {
        Ask {
            field: ServiceField::ElderlyService,
            skills: vec!["first aid".into(), "massage".into()],
            place: Some(GeoPoint {
                latitude: 31.30,
                longitude: 120.60,
            }),
            organization: 10,
            window: Window {
                from: at(1),
                until: at(3),
            },
        }
    }

    fn offer() -> Offer {
        Offer {
            fields: vec![ServiceField::ElderlyService],
            skills: vec!["first aid".into(), "massage".into()],
            place: Some(GeoPoint {
                latitude: 31.30,
                longitude: 120.60,
            }),
            organization: 10,
            window: Window::default(),
        }
    }

    #[test]
    fn a_perfect_match_scores_one_with_every_reason() {
        let s = score(&ask(), &offer()).unwrap();
        assert_eq!(s.score, 1.0);
        assert_eq!(
            s.reasons,
            vec![
                MatchReason::Field,
                MatchReason::Skills,
                MatchReason::Nearby,
                MatchReason::Available
            ]
        );
    }

    #[test]
    fn each_part_weighs_what_the_documentation_says() {
        // Another field, half the skills: 0.15 + place 0.2 + time 0.1.
        let mut o = offer();
        o.fields = vec![ServiceField::SocialAssistance];
        o.skills = vec!["massage".into()];
        assert_eq!(score(&ask(), &o).unwrap().score, 0.45);
        // Another organization 10.5 km away: place is half.
        let mut o = offer();
        o.organization = 11;
        o.place = Some(GeoPoint {
            latitude: 31.30 + 10_500.0 / 111_195.0,
            longitude: 120.60,
        });
        let s = score(&ask(), &o).unwrap();
        assert!((s.score - 0.9).abs() < 0.002, "{}", s.score);
        assert!(!s.reasons.contains(&MatchReason::Nearby));
        // Unknown place in another organization: nothing for place.
        o.place = None;
        assert_eq!(score(&ask(), &o).unwrap().score, 0.8);
        // Available for part of the window: half the time weight.
        let mut o = offer();
        o.window = Window {
            from: at(2),
            until: None,
        };
        let s = score(&ask(), &o).unwrap();
        assert_eq!(s.score, 0.95);
        assert!(!s.reasons.contains(&MatchReason::Available));
    }

    #[test]
    fn no_field_no_skill_or_no_time_is_no_match() {
        let mut o = offer();
        o.fields = vec![ServiceField::Other];
        o.skills = vec!["cooking".into()];
        assert!(score(&ask(), &o).is_none());
        let mut o = offer();
        o.window = Window {
            from: at(3),
            until: at(5),
        };
        assert!(
            score(&ask(), &o).is_none(),
            "touching at the end is not overlapping"
        );
        // A need with no window meets any availability.
        let mut a = ask();
        a.window = Window::default();
        assert!(score(&a, &o).is_some());
    }

    #[test]
    fn ranking_breaks_ties_by_distance_then_kind_then_age() {
        let s = |score: f64, d: Option<f64>| Score {
            score,
            skills_covered: vec![],
            distance_m: d,
            reasons: vec![],
        };
        let r = |id| {
            Candidate::Resource(resource::Model {
                id,
                organization_id: 1,
                kind: entity::community_resource::ResourceKind::Venue,
                name: String::new(),
                description: String::new(),
                fields: String::new(),
                skills: String::new(),
                latitude: None,
                longitude: None,
                available_from: None,
                available_until: None,
                capacity: None,
                contact: None,
                account_id: None,
                fund_id: None,
                active: true,
                created_by: 1,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            })
        };
        let mut m = vec![
            (r(5), s(0.5, Some(100.0))),
            (r(4), s(0.9, None)),
            (r(3), s(0.5, Some(50.0))),
            (r(2), s(0.5, Some(50.0))),
            (r(1), s(0.5, None)),
        ];
        rank(&mut m);
        let order: Vec<i64> = m.iter().map(|(c, _)| c.rank_key().1).collect();
        assert_eq!(order, vec![4, 2, 3, 5, 1]);
    }
}
