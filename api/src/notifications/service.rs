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

/// Tell the volunteer of `s` that `kind` happened to their sign-up. Call inside the
/// transaction that made the change: the notification commits or rolls back with it, and the
/// same (kind, sign-up) is written once however often the change is retried.
pub async fn notify<C: ConnectionTrait>(
    txn: &C,
    kind: NotificationKind,
    s: &signup::Model,
) -> AppResult<()> {
    notify_many(txn, kind, std::slice::from_ref(s)).await
}

/// [`notify`] for many sign-ups, in one statement.
pub async fn notify_many<C: ConnectionTrait>(
    txn: &C,
    kind: NotificationKind,
    signups: &[signup::Model],
) -> AppResult<()> {
    if signups.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = signups.iter().map(|s| notification::ActiveModel {
        account_id: Set(s.account_id),
        kind: Set(kind),
        shift_id: Set(Some(s.shift_id)),
        signup_id: Set(Some(s.id)),
        dedupe: Set(dedupe(kind, s.id)),
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
    Ok(())
}

/// What makes a notification about a sign-up one notification.
fn dedupe(kind: NotificationKind, signup_id: i64) -> String {
    use sea_orm::ActiveEnum;
    format!("{}:signup:{signup_id}", kind.to_value())
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
        assert_eq!(dedupe(NotificationKind::Promoted, 12), "PROMOTED:signup:12");
        assert_ne!(
            dedupe(NotificationKind::Promoted, 12),
            dedupe(NotificationKind::SignedUp, 12)
        );
    }
}
