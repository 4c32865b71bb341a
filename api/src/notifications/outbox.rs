//! Delivery beyond the app: the outbox worker's two steps, both safe to run on any number of
//! replicas at once.
//!
//! 1. **Plan** ([`plan`]): take notifications not yet planned (PostgreSQL: `FOR UPDATE SKIP
//!    LOCKED`, so replicas take different ones), decide their channels from the person's
//!    settings, consents and what the kind deserves, write one `notification_delivery` row per
//!    channel (unique per notification and channel) and mark them planned — one transaction,
//!    so a replica that dies mid-plan leaves them for the next.
//! 2. **Deliver** ([`deliver`]): claim due deliveries with one `UPDATE … RETURNING` that moves
//!    `next_at` to the end of a lease (PostgreSQL: over a `FOR UPDATE SKIP LOCKED` subquery),
//!    send each, and record what came of it. A replica that dies mid-send leaves its claims
//!    due again when their leases end: at least once, never lost. Failures are retried with
//!    backoff and become dead letters after the last try or at once when the provider refuses
//!    for good; an admin can list and retry them ([`dead_letters`], [`retry`]).
//!
//! Settings are read again just before each send, so an unsubscribe takes effect at once;
//! quiet hours move a delivery to their end unless the notification is urgent.

use std::collections::{HashMap, HashSet};

use async_graphql::futures_util::{StreamExt, stream};
use chrono::{DateTime, Duration, Utc};
use entity::{
    account, charity_event, help_offer,
    notification::{self, NotificationChannel, NotificationKind},
    notification_delivery::{self as delivery, DeliveryStatus},
    shift, signup, wechat_consent, wechat_link,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query},
};

use super::{
    prefs::{self, Settings},
    quiet,
    templates::Templates,
    texts::{self, Detail},
    wechat::{self, Wechat},
};
use crate::{AppState, error::AppResult, sms::SendError};

/// Notifications planned per transaction.
pub const PLAN_BATCH: u64 = 500;
/// Deliveries claimed (and sent at once) per round: few enough that each is sent well within
/// its lease even when the provider is slow (four 10-second calls at worst).
pub const SEND_BATCH: u64 = 16;

/// The channels beyond the app, as configured.
pub struct Channels {
    /// SMS notice templates by kind (the sender itself is `AppState::sms`).
    pub sms_templates: Templates,
    /// The mini-program sender, when configured.
    pub wechat: Option<Wechat>,
}

impl Channels {
    /// From the configuration.
    pub fn from_config(config: &crate::Config) -> anyhow::Result<Self> {
        Ok(Self {
            sms_templates: Templates::parse(
                config.sms_notice_templates.as_deref(),
                "TONGXING_SMS_NOTICE_TEMPLATES",
            )?,
            wechat: Wechat::from_config(config)?,
        })
    }
}

/// Whether a notification of `kind` is worth a text message: promotions within 24 h of the
/// shift, cancellations, and help offers. The rest waits in the app (and mini-program).
pub fn texted(
    kind: NotificationKind,
    shift_starts: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    use NotificationKind as K;
    match kind {
        K::Promoted => shift_starts.is_some_and(|s| s > now && s - now <= Duration::hours(24)),
        K::ShiftCancelled | K::SignupCancelled | K::HelpOffered => true,
        _ => false,
    }
}

/// Plan up to [`PLAN_BATCH`] notifications; returns how many.
pub async fn plan(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let channels = &state.channels;
    let txn = crate::db::begin_write(&state.db).await?;
    let rows = notification::Entity::find()
        .filter(notification::Column::PlannedAt.is_null())
        .order_by_asc(notification::Column::Id)
        .limit(PLAN_BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    if rows.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    let mut accounts: Vec<i64> = rows.iter().map(|n| n.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let settings = prefs::load(&txn, &accounts).await?;
    // Who can get mini-program messages, and with which templates.
    let (linked, mut consents): (HashSet<i64>, HashMap<(i64, String), i32>) =
        if channels.wechat.is_some() {
            let linked = wechat_link::Entity::find()
                .filter(wechat_link::Column::AccountId.is_in(accounts.iter().copied()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|l| l.account_id)
                .collect();
            let consents = wechat_consent::Entity::find()
                .filter(wechat_consent::Column::AccountId.is_in(accounts.iter().copied()))
                .filter(wechat_consent::Column::Remaining.gt(0))
                .all(&txn)
                .await?
                .into_iter()
                .map(|c| ((c.account_id, c.template_id), c.remaining))
                .collect();
            (linked, consents)
        } else {
            Default::default()
        };
    // Promotions are texted only close to the shift.
    let promoted: Vec<i64> = rows
        .iter()
        .filter(|n| n.kind == NotificationKind::Promoted)
        .filter_map(|n| n.shift_id)
        .collect();
    let starts: HashMap<i64, DateTime<Utc>> = if promoted.is_empty() {
        HashMap::new()
    } else {
        shift::Entity::find()
            .filter(shift::Column::Id.is_in(promoted))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.starts_at))
            .collect()
    };

    let mut deliveries = Vec::new();
    let mut queued = Vec::new();
    let mut muted = Vec::new();
    // Consents each (person, template) spends in this batch.
    let mut spent: HashMap<(i64, String), i32> = HashMap::new();
    let fallback = Settings::default();
    for n in &rows {
        let s = settings.get(&n.account_id).unwrap_or(&fallback);
        let category = n.kind.category();
        if !s.allows(category, NotificationChannel::InApp) {
            muted.push(n.id);
        }
        let due = if n.urgent {
            now
        } else {
            quiet::release(now, s.quiet)
        };
        let mut add = |channel| {
            queued.push(channel);
            deliveries.push(delivery::ActiveModel {
                notification_id: Set(n.id),
                channel: Set(channel),
                status: Set(DeliveryStatus::Pending),
                attempts: Set(0),
                next_at: Set(due),
                last_error: Set(None),
                sent_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
        };
        if s.allows(category, NotificationChannel::Sms)
            && texted(
                n.kind,
                n.shift_id.and_then(|id| starts.get(&id).copied()),
                now,
            )
            && state.sms.can_notify(&channels.sms_templates, n.kind)
        {
            add(NotificationChannel::Sms);
        }
        if let Some(template) = channels
            .wechat
            .as_ref()
            .and_then(|w| w.templates.of(n.kind))
            && s.allows(category, NotificationChannel::Wechat)
            && linked.contains(&n.account_id)
            && let Some(left) = consents.get_mut(&(n.account_id, template.to_owned()))
            && *left > 0
        {
            // The delivery holds the consent from now on: a retry after a crash does not
            // need another one.
            *left -= 1;
            *spent
                .entry((n.account_id, template.to_owned()))
                .or_default() += 1;
            add(NotificationChannel::Wechat);
        }
    }
    // Spend the consents; where another replica spent them first, drop those messages.
    for ((account, template), n) in spent {
        if !wechat::spend(&txn, account, &template, n).await? {
            let short: HashSet<i64> = rows
                .iter()
                .filter(|r| r.account_id == account)
                .map(|r| r.id)
                .collect();
            deliveries.retain(|d| {
                !(d.channel == Set(NotificationChannel::Wechat)
                    && matches!(&d.notification_id, sea_orm::ActiveValue::Set(id) if short.contains(id)))
            });
        }
    }
    for chunk in deliveries.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([delivery::Column::NotificationId, delivery::Column::Channel])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    notification::Entity::update_many()
        .col_expr(notification::Column::PlannedAt, Expr::value(now))
        .filter(notification::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    if !muted.is_empty() {
        // Switched off in the app: kept in the history, but no badge and no live push.
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .filter(notification::Column::Id.is_in(muted))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    for channel in queued {
        state.metrics.notification(channel, "queued");
    }
    Ok(rows.len())
}

/// Claim up to `limit` deliveries due at `now`: each gets one more attempt and is leased
/// until `lease_until`.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<delivery::Model>> {
    let due = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .and_where(delivery::Column::NextAt.lte(now))
        .order_by(delivery::Column::NextAt, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    Ok(delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::NextAt, Expr::value(lease_until))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await?)
}

/// What came of one send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The provider took it.
    Sent,
    /// Not sent, and never will be (switched off, out of date, refused by the person).
    Skipped(String),
    /// Not now: quiet hours until then (not counted as a try).
    Later(DateTime<Utc>),
    /// The provider failed or refused.
    Failed(SendError),
}

/// Time for a round that started at `base` (which tests set): it moves on with the wall
/// clock, so leases, backoff and quiet hours are reckoned from the moment of each step.
#[derive(Clone, Copy)]
struct Clock {
    base: DateTime<Utc>,
    started: std::time::Instant,
}

impl Clock {
    fn new(base: DateTime<Utc>) -> Self {
        Self {
            base,
            started: std::time::Instant::now(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.base + Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}

/// What the sends of a round need, read in a few statements for the whole round.
struct Round {
    notifications: HashMap<i64, notification::Model>,
    phones: HashMap<i64, String>,
    openids: HashMap<i64, String>,
    details: HashMap<i64, Detail>,
    settings: HashMap<i64, Settings>,
    /// Sign-ups no longer active (cancelled): their news is out of date.
    cancelled_signups: HashSet<i64>,
    /// Help offers no longer open.
    closed_offers: HashSet<i64>,
}

impl Round {
    async fn load(db: &DatabaseConnection, claimed: &[delivery::Model]) -> AppResult<Self> {
        let ids: Vec<i64> = claimed.iter().map(|d| d.notification_id).collect();
        let notifications: HashMap<i64, notification::Model> = notification::Entity::find()
            .filter(notification::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let mut accounts: Vec<i64> = notifications.values().map(|n| n.account_id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let wants = |channel| claimed.iter().any(|d| d.channel == channel);
        let phones = if wants(NotificationChannel::Sms) {
            account::Entity::find()
                .filter(account::Column::Id.is_in(accounts.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|a| (a.id, a.phone))
                .collect()
        } else {
            HashMap::new()
        };
        let openids = if wants(NotificationChannel::Wechat) {
            wechat_link::Entity::find()
                .filter(wechat_link::Column::AccountId.is_in(accounts.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|l| (l.account_id, l.openid))
                .collect()
        } else {
            HashMap::new()
        };
        let shift_ids: Vec<i64> = notifications.values().filter_map(|n| n.shift_id).collect();
        let shifts = shift::Entity::find()
            .filter(shift::Column::Id.is_in(shift_ids))
            .find_also_related(charity_event::Entity)
            .all(db)
            .await?;
        let by_shift: HashMap<i64, Detail> = shifts
            .into_iter()
            .map(|(s, e)| {
                let title = match e {
                    Some(e) if e.title != s.title => format!("{} · {}", e.title, s.title),
                    _ => s.title.clone(),
                };
                (
                    s.id,
                    Detail {
                        title: Some(title),
                        at: Some(s.starts_at),
                    },
                )
            })
            .collect();
        let details = notifications
            .values()
            .map(|n| {
                let d = n
                    .shift_id
                    .and_then(|s| by_shift.get(&s).cloned())
                    .unwrap_or_default();
                (n.id, d)
            })
            .collect();
        let signup_ids: Vec<i64> = notifications.values().filter_map(|n| n.signup_id).collect();
        let cancelled_signups = if signup_ids.is_empty() {
            HashSet::new()
        } else {
            signup::Entity::find()
                .select_only()
                .column(signup::Column::Id)
                .filter(signup::Column::Id.is_in(signup_ids))
                .filter(signup::Column::Status.eq(signup::SignupStatus::Cancelled))
                .into_tuple()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        let offer_ids: Vec<i64> = notifications
            .values()
            .filter(|n| n.kind == NotificationKind::HelpOffered)
            .filter_map(|n| n.subject_id)
            .collect();
        let closed_offers = if offer_ids.is_empty() {
            HashSet::new()
        } else {
            help_offer::Entity::find()
                .select_only()
                .column(help_offer::Column::Id)
                .filter(help_offer::Column::Id.is_in(offer_ids))
                .filter(help_offer::Column::Status.ne(help_offer::OfferStatus::Open))
                .into_tuple()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        let settings = prefs::load(db, &accounts).await?;
        Ok(Self {
            notifications,
            phones,
            openids,
            details,
            settings,
            cancelled_signups,
            closed_offers,
        })
    }

    /// Why `n`'s news is out of date by `now`, if it is: its sign-up was cancelled since, the
    /// shift a sign-up notice is about has begun, or the help offer is no longer open.
    fn stale(&self, n: &notification::Model, now: DateTime<Utc>) -> Option<&'static str> {
        use NotificationKind as K;
        let about_signup = matches!(
            n.kind,
            K::SignedUp | K::Waitlisted | K::Promoted | K::ShiftReminder | K::ShiftChanged
        );
        if about_signup
            && n.signup_id
                .is_some_and(|s| self.cancelled_signups.contains(&s))
        {
            return Some("out of date: the sign-up was cancelled since");
        }
        let begun = self
            .details
            .get(&n.id)
            .and_then(|d| d.at)
            .is_some_and(|at| at <= now);
        if about_signup && begun {
            return Some("out of date: the shift has begun");
        }
        if n.kind == K::HelpOffered
            && n.subject_id
                .is_some_and(|o| self.closed_offers.contains(&o))
        {
            return Some("out of date: the help offer is closed");
        }
        None
    }
}

/// Claim due deliveries (as many as are sent at once, so every claim is sent well within its
/// lease) and send them; returns how many were claimed.
pub async fn deliver(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let clock = Clock::new(now);
    let lease = now + Duration::seconds(i64::from(state.config.notification_lease_secs));
    let claimed = claim(&state.db, now, lease, SEND_BATCH).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let round = Round::load(&state.db, &claimed).await?;
    let n = claimed.len();
    stream::iter(claimed)
        .for_each_concurrent(SEND_BATCH as usize, |d| {
            let round = &round;
            async move {
                let outcome = Box::pin(send_one(state, round, &d, clock)).await;
                if let Err(e) = finish(state, &d, outcome, clock.now()).await {
                    e.log("recording a notification delivery (its lease will end)");
                }
            }
        })
        .await;
    Ok(n)
}

/// Send one claimed delivery.
async fn send_one(state: &AppState, round: &Round, d: &delivery::Model, clock: Clock) -> Outcome {
    let Some(n) = round.notifications.get(&d.notification_id) else {
        return Outcome::Skipped("the notification is gone".into());
    };
    let now = clock.now();
    let fallback = Settings::default();
    let s = round.settings.get(&n.account_id).unwrap_or(&fallback);
    if !s.allows(n.kind.category(), d.channel) {
        return Outcome::Skipped("switched off by the person".into());
    }
    if let Some(why) = round.stale(n, now) {
        return Outcome::Skipped(why.into());
    }
    if !n.urgent {
        let at = quiet::release(now, s.quiet);
        if at > now {
            return Outcome::Later(at);
        }
    }
    let detail = round.details.get(&n.id).cloned().unwrap_or_default();
    match d.channel {
        NotificationChannel::Sms => {
            let Some(phone) = round.phones.get(&n.account_id) else {
                return Outcome::Skipped("the account is gone".into());
            };
            let text = texts::sms_text(n.kind, &detail);
            match state
                .sms
                .send_notice(
                    phone,
                    &state.channels.sms_templates,
                    n.kind,
                    &text,
                    &texts::sms_params(&detail),
                    &format!("n{}", d.id),
                )
                .await
            {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Failed(e),
            }
        }
        NotificationChannel::Wechat => {
            let Some(w) = state.channels.wechat.as_ref() else {
                return Outcome::Skipped("mini-program messages are not configured".into());
            };
            let Some(template) = w.templates.of(n.kind) else {
                return Outcome::Skipped("no template for the kind".into());
            };
            let Some(openid) = round.openids.get(&n.account_id) else {
                return Outcome::Skipped("no WeChat account linked".into());
            };
            let data = texts::wechat_data(n.kind, &detail, now);
            match w.send(openid, template, &data).await {
                Ok(()) => Outcome::Sent,
                // WeChat says the person gave no consent: none is left, and nothing is wrong.
                Err(SendError::Permanent(r)) if r.starts_with("wechat: 43101") => {
                    if let Err(e) = wechat::forget(&state.db, n.account_id, template).await {
                        e.log("forgetting a refused WeChat consent");
                    }
                    Outcome::Skipped("the person gave no consent (43101)".into())
                }
                Err(e) => Outcome::Failed(e),
            }
        }
        NotificationChannel::InApp => Outcome::Skipped("in-app needs no delivery".into()),
    }
}

/// Wait before try `attempt + 1`: 30 s, 1, 2, 4 … minutes, at most an hour, spread a little
/// by the delivery's id so a burst of failures does not come back all at once.
pub fn backoff(attempt: i32, id: i64) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    let secs = Ord::min(30_i64 << exp, 3600);
    Duration::seconds(secs + id.rem_euclid(secs / 5 + 1))
}

/// Record what came of a send, if the claim is still ours (same attempt, still pending). A
/// mini-program message that will never be sent gives its consent back.
async fn finish(
    state: &AppState,
    d: &delivery::Model,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let channel = d.channel;
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(d.id))
        .filter(delivery::Column::Attempts.eq(d.attempts))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending));
    let error = |r: &str| Expr::value(r.chars().take(500).collect::<String>());
    let mut gives_back = false;
    let label = match &outcome {
        Outcome::Sent => {
            update = update
                .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Sent))
                .col_expr(delivery::Column::SentAt, Expr::value(now))
                .col_expr(delivery::Column::LastError, Expr::value(None::<String>));
            "sent"
        }
        Outcome::Skipped(why) => {
            gives_back = !why.contains("43101");
            update = update
                .col_expr(
                    delivery::Column::Status,
                    Expr::value(DeliveryStatus::Skipped),
                )
                .col_expr(delivery::Column::LastError, error(why));
            "skipped"
        }
        Outcome::Later(at) => {
            update = update
                .col_expr(delivery::Column::NextAt, Expr::value(*at))
                .col_expr(
                    delivery::Column::Attempts,
                    Expr::col(delivery::Column::Attempts).sub(1),
                );
            "deferred"
        }
        Outcome::Failed(e) => {
            state.metrics.notification(channel, "failed");
            let last =
                d.attempts >= i32::try_from(state.config.notification_attempts).unwrap_or(10);
            if matches!(e, SendError::Permanent(_)) || last {
                // A dead letter keeps its consent: an admin may retry it.
                tracing::warn!(delivery = d.id, ?channel, why = e.reason(), "dead letter");
                update = update
                    .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Dead))
                    .col_expr(delivery::Column::LastError, error(e.reason()));
                "dead"
            } else {
                tracing::info!(delivery = d.id, ?channel, why = e.reason(), "will retry");
                update = update
                    .col_expr(
                        delivery::Column::NextAt,
                        Expr::value(now + backoff(d.attempts, d.id)),
                    )
                    .col_expr(delivery::Column::LastError, error(e.reason()));
                "retried"
            }
        }
    };
    let ours = update.exec(&state.db).await?.rows_affected == 1;
    if ours && gives_back && channel == NotificationChannel::Wechat {
        give_back_consent(state, d.notification_id).await?;
    }
    state.metrics.notification(channel, label);
    Ok(())
}

/// Return the consent a mini-program delivery held (it will not be sent).
async fn give_back_consent(state: &AppState, notification_id: i64) -> AppResult<()> {
    let Some(w) = state.channels.wechat.as_ref() else {
        return Ok(());
    };
    let Some(n) = notification::Entity::find_by_id(notification_id)
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    match w.templates.of(n.kind) {
        Some(template) => wechat::refund(&state.db, n.account_id, template).await,
        None => Ok(()),
    }
}

/// Dead letters, oldest first (for the admin list).
pub fn dead_letters(channel: Option<NotificationChannel>) -> sea_orm::Select<delivery::Entity> {
    let select = delivery::Entity::find().filter(delivery::Column::Status.eq(DeliveryStatus::Dead));
    match channel {
        Some(c) => select.filter(delivery::Column::Channel.eq(c)),
        None => select,
    }
}

/// Dead letters put back per call at most.
pub const RETRY_BATCH: u64 = 1000;

/// Deliveries done (sent or skipped) are kept this long, for the admin's questions.
pub const KEEP_DONE_DAYS: i64 = 30;

/// Forget deliveries sent or skipped more than [`KEEP_DONE_DAYS`] ago (dead letters stay until
/// retried); returns how many.
pub async fn forget_done<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(delivery::Entity::delete_many()
        .filter(delivery::Column::Status.is_in([DeliveryStatus::Sent, DeliveryStatus::Skipped]))
        .filter(delivery::Column::UpdatedAt.lt(now - Duration::days(KEEP_DONE_DAYS)))
        .exec(db)
        .await?
        .rows_affected)
}

/// Put dead letters (those of `ids`, or all — at most [`RETRY_BATCH`] of them, oldest first)
/// back in the queue with fresh tries; returns how many. A mini-program message still holds
/// the consent it was planned with.
pub async fn retry<C: ConnectionTrait>(
    db: &C,
    ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    // At most this many at once (the oldest first), so one call cannot flood the providers.
    let batch = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::Status.eq(DeliveryStatus::Dead))
        .order_by(delivery::Column::Id, sea_orm::Order::Asc)
        .limit(RETRY_BATCH)
        .to_owned();
    let mut update = delivery::Entity::update_many()
        .filter(delivery::Column::Id.in_subquery(batch))
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::NextAt, Expr::value(now))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Dead));
    if let Some(ids) = ids {
        update = update.filter(delivery::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_matters_is_texted() {
        let now: DateTime<Utc> = "2026-12-06T00:00:00Z".parse().unwrap();
        let soon = Some(now + Duration::hours(20));
        let later = Some(now + Duration::hours(30));
        assert!(texted(NotificationKind::Promoted, soon, now));
        assert!(!texted(NotificationKind::Promoted, later, now));
        assert!(!texted(
            NotificationKind::Promoted,
            Some(now - Duration::hours(1)),
            now
        ));
        assert!(texted(NotificationKind::ShiftCancelled, later, now));
        assert!(texted(NotificationKind::HelpOffered, None, now));
        assert!(!texted(NotificationKind::SignedUp, soon, now));
        assert!(!texted(NotificationKind::ShiftReminder, soon, now));
    }

    #[test]
    fn backoff_grows_to_an_hour() {
        assert!(backoff(1, 0) >= Duration::seconds(30) && backoff(1, 0) < Duration::seconds(40));
        assert!(backoff(2, 0) >= Duration::seconds(60));
        assert!(backoff(3, 0) > backoff(2, 0));
        assert!(backoff(20, 99) <= Duration::seconds(3600 + 721));
        assert!(backoff(20, 99) >= Duration::seconds(3600));
    }
}
