//! Who wants what: per person, each category on or off per channel; quiet hours; and a global
//! unsubscribe from everything beyond the app. Read when a notification's channels are chosen
//! and again just before each send, so a change takes effect at once.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{
    notification::{NotificationCategory, NotificationChannel},
    notification_preference as pref, notification_setting as setting,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use super::quiet::{self, Quiet};
use crate::error::{AppError, AppResult};

/// One person's notification settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Quiet hours (`None`: none).
    pub quiet: Option<Quiet>,
    /// Nothing beyond the app.
    pub unsubscribed: bool,
    /// (category, channel) pairs switched off.
    pub off: HashSet<(NotificationCategory, NotificationChannel)>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            quiet: Some(quiet::DEFAULT),
            unsubscribed: false,
            off: HashSet::new(),
        }
    }
}

impl Settings {
    /// Whether `category` may go out on `channel`.
    pub fn allows(&self, category: NotificationCategory, channel: NotificationChannel) -> bool {
        let pushed = channel != NotificationChannel::InApp;
        !(self.off.contains(&(category, channel)) || self.unsubscribed && pushed)
    }
}

/// The settings of each of `accounts` (defaults for those who changed nothing).
pub async fn load<C: ConnectionTrait>(
    db: &C,
    accounts: &[i64],
) -> AppResult<HashMap<i64, Settings>> {
    let mut out: HashMap<i64, Settings> =
        accounts.iter().map(|a| (*a, Settings::default())).collect();
    if accounts.is_empty() {
        return Ok(out);
    }
    for s in setting::Entity::find()
        .filter(setting::Column::AccountId.is_in(accounts.iter().copied()))
        .all(db)
        .await?
    {
        let entry = out.entry(s.account_id).or_default();
        entry.quiet = Quiet::new(s.quiet_from_minute, s.quiet_until_minute);
        entry.unsubscribed = s.unsubscribed;
    }
    for p in pref::Entity::find()
        .filter(pref::Column::AccountId.is_in(accounts.iter().copied()))
        .filter(pref::Column::Enabled.eq(false))
        .all(db)
        .await?
    {
        out.entry(p.account_id)
            .or_default()
            .off
            .insert((p.category, p.channel));
    }
    Ok(out)
}

/// One person's settings.
pub async fn of<C: ConnectionTrait>(db: &C, account: i64) -> AppResult<Settings> {
    Ok(load(db, &[account])
        .await?
        .remove(&account)
        .unwrap_or_default())
}

/// What to change; what is left out stays.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Categories switched on or off per channel.
    pub preferences: Vec<(NotificationCategory, NotificationChannel, bool)>,
    /// New quiet hours: `Some(None)` for none.
    pub quiet: Option<Option<Quiet>>,
    /// Unsubscribe from (or subscribe again to) everything beyond the app.
    pub unsubscribed: Option<bool>,
}

/// Apply `change` to `account`'s settings, at once for every send not yet made.
pub async fn update(
    db: &sea_orm::DatabaseConnection,
    account: i64,
    change: Change,
) -> AppResult<Settings> {
    if change.preferences.len() > 64 {
        return Err(AppError::bad_input(
            "input.preferences",
            msg!("at most 64 preferences at once", "一次最多设置 64 项"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    if change.quiet.is_some() || change.unsubscribed.is_some() {
        // A new row starts from the defaults; an existing one changes only in the columns
        // given, so two concurrent changes (quiet hours here, unsubscribe there) both hold.
        let quiet = change.quiet.unwrap_or(Some(quiet::DEFAULT));
        let minutes = |m: Option<u16>| m.and_then(|m| i16::try_from(m).ok());
        let mut columns = vec![setting::Column::UpdatedAt];
        if change.quiet.is_some() {
            columns.extend([
                setting::Column::QuietFromMinute,
                setting::Column::QuietUntilMinute,
            ]);
        }
        if change.unsubscribed.is_some() {
            columns.push(setting::Column::Unsubscribed);
        }
        setting::Entity::insert(setting::ActiveModel {
            account_id: Set(account),
            quiet_from_minute: Set(minutes(quiet.map(|q| q.from))),
            quiet_until_minute: Set(minutes(quiet.map(|q| q.until))),
            unsubscribed: Set(change.unsubscribed.unwrap_or(false)),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(setting::Column::AccountId)
                .update_columns(columns)
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    for (category, channel, enabled) in change.preferences {
        pref::Entity::insert(pref::ActiveModel {
            account_id: Set(account),
            category: Set(category),
            channel: Set(channel),
            enabled: Set(enabled),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                pref::Column::AccountId,
                pref::Column::Category,
                pref::Column::Channel,
            ])
            .update_columns([pref::Column::Enabled, pref::Column::UpdatedAt])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    let out = of(&txn, account).await?;
    txn.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribing_leaves_the_app_alone() {
        let mut s = Settings::default();
        assert!(s.allows(NotificationCategory::Help, NotificationChannel::Sms));
        s.unsubscribed = true;
        assert!(!s.allows(NotificationCategory::Help, NotificationChannel::Sms));
        assert!(!s.allows(NotificationCategory::Help, NotificationChannel::Wechat));
        assert!(s.allows(NotificationCategory::Help, NotificationChannel::InApp));
        s.unsubscribed = false;
        s.off
            .insert((NotificationCategory::Signups, NotificationChannel::Wechat));
        assert!(!s.allows(NotificationCategory::Signups, NotificationChannel::Wechat));
        assert!(s.allows(NotificationCategory::Signups, NotificationChannel::Sms));
        assert!(s.allows(NotificationCategory::Reminders, NotificationChannel::Wechat));
    }
}
