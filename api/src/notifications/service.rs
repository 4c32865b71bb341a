//! Writing and reading notifications.

use chrono::Utc;
use entity::{
    notification::{self, NotificationKind},
    signup,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::{
    error::AppResult,
    pagination::{Page, PageArgs, fetch_page},
};

/// One notification to write: who is told, what happened, what about, and the key that makes
/// it one notification (a repeated trigger with the same key writes nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Who is told.
    pub account_id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// The shift it is about.
    pub shift_id: Option<i64>,
    /// The sign-up it is about.
    pub signup_id: Option<i64>,
    /// What else it is about (help offer, record, certificate, wish, invitation).
    pub subject_id: Option<i64>,
    /// Passes quiet hours.
    pub urgent: bool,
    /// What makes it one notification for the person.
    pub dedupe: String,
}

impl Notice {
    /// `kind` happened to the sign-up `s`: once per (kind, sign-up).
    pub fn signup(kind: NotificationKind, s: &signup::Model) -> Self {
        Self::signup_of(kind, s.account_id, s.shift_id, s.id)
    }

    /// [`signup`](Self::signup) from the sign-up's volunteer, shift and id.
    pub fn signup_of(kind: NotificationKind, account: i64, shift: i64, signup: i64) -> Self {
        Self {
            account_id: account,
            kind,
            shift_id: Some(shift),
            signup_id: Some(signup),
            subject_id: None,
            urgent: false,
            dedupe: dedupe(kind, "signup", signup),
        }
    }

    /// `kind` happened to `subject` (a help offer, record, certificate, wish or invitation,
    /// by the kind), for `account`: once per (kind, subject) unless [`on`](Self::on) tells
    /// repeats apart.
    pub fn subject(kind: NotificationKind, account: i64, subject: i64) -> Self {
        let dedupe = dedupe(kind, "subject", subject);
        Self {
            account_id: account,
            kind,
            shift_id: None,
            signup_id: None,
            subject_id: Some(subject),
            urgent: false,
            dedupe,
        }
    }

    /// Mark it urgent: it passes quiet hours.
    pub fn urgent(mut self, urgent: bool) -> Self {
        self.urgent = urgent;
        self
    }

    /// Tell repeats of the same (kind, subject) apart by `occasion` (a shift changed twice is
    /// told twice).
    pub fn on(mut self, occasion: impl std::fmt::Display) -> Self {
        self.dedupe = format!("{}:{occasion}", self.dedupe);
        self
    }
}

/// Tell the volunteer of `s` that `kind` happened to their sign-up. Call inside the
/// transaction that made the change: the notification commits or rolls back with it, and the
/// same (kind, sign-up) is written once however often the change is retried.
pub async fn notify<C: ConnectionTrait>(
    txn: &C,
    kind: NotificationKind,
    s: &signup::Model,
) -> AppResult<()> {
    write(txn, vec![Notice::signup(kind, s)]).await
}

/// [`notify`] for many sign-ups, in one statement.
pub async fn notify_many<C: ConnectionTrait>(
    txn: &C,
    kind: NotificationKind,
    signups: &[signup::Model],
) -> AppResult<()> {
    write(
        txn,
        signups.iter().map(|s| Notice::signup(kind, s)).collect(),
    )
    .await
}

/// Write `notices` in the caller's transaction (in chunks of a few hundred rows), each once:
/// a notice whose (person, key) exists is skipped. The delivery worker takes them from there
/// once the transaction commits; the app's subscribers hear of them when the request ends.
pub async fn write<C: ConnectionTrait>(txn: &C, notices: Vec<Notice>) -> AppResult<()> {
    let now = Utc::now();
    for chunk in notices.chunks(500) {
        for n in chunk {
            crate::live::record(crate::live::Change::Notification {
                account_id: n.account_id,
            });
        }
        let rows = chunk.iter().map(|n| notification::ActiveModel {
            account_id: Set(n.account_id),
            kind: Set(n.kind),
            shift_id: Set(n.shift_id),
            signup_id: Set(n.signup_id),
            subject_id: Set(n.subject_id),
            urgent: Set(n.urgent),
            planned_at: Set(None),
            dedupe: Set(n.dedupe.clone()),
            created_at: Set(now),
            read_at: Set(None),
            ..Default::default()
        });
        notification::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    notification::Column::AccountId,
                    notification::Column::Dedupe,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Tell everyone signed up for (or waiting on) shift `shift` that its time changed, by the
/// change made `at` (the shift's new `updated_at`): once per sign-up and change.
pub async fn shift_changed<C: ConnectionTrait>(
    txn: &C,
    shift: i64,
    at: chrono::DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::QueryFilter;
    let active = signup::Entity::find()
        .filter(signup::Column::ShiftId.eq(shift))
        .filter(signup::Column::Status.is_in([
            signup::SignupStatus::Confirmed,
            signup::SignupStatus::Waitlisted,
        ]))
        .all(txn)
        .await?;
    let occasion = at.timestamp_micros();
    write(
        txn,
        active
            .iter()
            .map(|s| Notice::signup(NotificationKind::ShiftChanged, s).on(occasion))
            .collect(),
    )
    .await
}

/// Tell the volunteers of `offers` that `kind` (offered, withdrawn) happened to them.
pub async fn help_offers<C: ConnectionTrait>(
    txn: &C,
    kind: NotificationKind,
    offers: &[entity::help_offer::Model],
    urgent: bool,
) -> AppResult<()> {
    write(
        txn,
        offers
            .iter()
            .map(|o| Notice::subject(kind, o.volunteer_id, o.id).urgent(urgent))
            .collect(),
    )
    .await
}

/// What makes a notification about a subject one notification.
fn dedupe(kind: NotificationKind, what: &str, id: i64) -> String {
    use sea_orm::ActiveEnum;
    format!("{}:{what}:{id}", kind.to_value())
}

/// The rows [`list`] pages through: `account`'s notifications, unread ones only if asked.
pub fn of_account(account: i64, unread_only: bool) -> sea_orm::Select<notification::Entity> {
    let select = notification::Entity::find().filter(notification::Column::AccountId.eq(account));
    if unread_only {
        select.filter(notification::Column::ReadAt.is_null())
    } else {
        select
    }
}

/// A page of `account`'s notifications, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    account: i64,
    unread_only: bool,
    page: PageArgs,
) -> AppResult<Page<notification::Model>> {
    fetch_page(
        db,
        of_account(account, unread_only),
        notification::Column::Id,
        page,
    )
    .await
}

/// Mark `account`'s notifications read: those of `ids`, or all of them. Others' ids are
/// ignored. Returns how many changed.
pub async fn mark_read<C: ConnectionTrait>(
    db: &C,
    account: i64,
    ids: Option<&[i64]>,
) -> AppResult<u64> {
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::AccountId.eq(account))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notification::Column::Id.is_in(ids.iter().copied()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notification_per_kind_and_sign_up() {
        assert_eq!(
            dedupe(NotificationKind::Promoted, "signup", 12),
            "PROMOTED:signup:12"
        );
        assert_ne!(
            dedupe(NotificationKind::Promoted, "signup", 12),
            dedupe(NotificationKind::SignedUp, "signup", 12)
        );
        let corrected = |at| Notice::subject(NotificationKind::RecordCorrected, 1, 7).on(at);
        assert_ne!(corrected(1).dedupe, corrected(2).dedupe);
        assert_eq!(
            Notice::subject(NotificationKind::HelpOffered, 1, 7).dedupe,
            "HELP_OFFERED:subject:7"
        );
    }
}
