//! Volunteer profile logic.

use chrono::Utc;
use entity::volunteer_profile as profile;
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};

use crate::{error::AppResult, geo::GeoPoint, validate};

/// Changes to a profile; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// Skills (normalized).
    pub skills: Option<Vec<String>>,
    /// Bio.
    pub bio: Option<String>,
    /// Home location.
    pub home: Option<GeoPoint>,
    /// Whether staff may find the volunteer for help requests near home.
    pub available_for_dispatch: Option<bool>,
}

/// The volunteer number of an account: stable, derived from the account key.
pub fn volunteer_number(account_id: i64) -> String {
    format!("TX{account_id:08}")
}

/// A profile row, or the empty profile every account has before its first update.
pub async fn get_or_default<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> AppResult<profile::Model> {
    if let Some(p) = profile::Entity::find_by_id(account_id).one(db).await? {
        return Ok(p);
    }
    let now = Utc::now();
    Ok(profile::Model {
        account_id,
        volunteer_number: volunteer_number(account_id),
        skills: "[]".to_owned(),
        bio: String::new(),
        home_latitude: None,
        home_longitude: None,
        available_for_dispatch: false,
        created_at: now,
        updated_at: now,
    })
}

/// Update the caller's profile, creating it on first use (one upsert).
#[tracing::instrument(skip_all, fields(account_id))]
pub async fn update<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    changes: ProfileChanges,
) -> AppResult<profile::Model> {
    let current = get_or_default(db, account_id).await?;
    let now = Utc::now();
    let skills = changes
        .skills
        .map(|s| validate::skills_to_db(&s))
        .unwrap_or(current.skills);
    let bio = changes.bio.unwrap_or(current.bio);
    let (lat, lng) = match changes.home {
        Some(p) => (Some(p.latitude), Some(p.longitude)),
        None => (current.home_latitude, current.home_longitude),
    };
    profile::Entity::insert(profile::ActiveModel {
        account_id: Set(account_id),
        volunteer_number: Set(volunteer_number(account_id)),
        skills: Set(skills),
        bio: Set(bio),
        home_latitude: Set(lat),
        home_longitude: Set(lng),
        available_for_dispatch: Set(changes
            .available_for_dispatch
            .unwrap_or(current.available_for_dispatch)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(profile::Column::AccountId)
            .update_columns([
                profile::Column::Skills,
                profile::Column::Bio,
                profile::Column::HomeLatitude,
                profile::Column::HomeLongitude,
                profile::Column::AvailableForDispatch,
                profile::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    get_or_default(db, account_id).await
}
