//! Statuses: how messages name them, and moving a row through them: one conditional `UPDATE` from the statuses a move is
//! allowed from, so two concurrent moves cannot both win. Events and campaigns share it.

use chrono::Utc;
use entity::{account, campaign, charity_event as event};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Value,
    sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult},
};

/// A table whose rows move through statuses and are stamped when published.
pub trait Lifecycle: EntityTrait {
    /// The status column's type.
    type Status: ActiveEnum + Into<Value> + Copy + PartialEq + Send + Sync + 'static;
    /// What a row is called in messages ("event", "campaign").
    const NOUN: &'static str;
    /// The primary key.
    const ID: Self::Column;
    /// The status.
    const STATUS: Self::Column;
    /// Stamped on every move.
    const UPDATED_AT: Self::Column;
    /// Stamped on a move to [`Lifecycle::PUBLISHED`]; a row is public once it is set.
    const PUBLISHED_AT: Self::Column;
    /// The organization that runs it.
    const ORGANIZATION_ID: Self::Column;
    /// The status that makes a row public.
    const PUBLISHED: Self::Status;
}

impl Lifecycle for event::Entity {
    type Status = event::EventStatus;
    const NOUN: &'static str = "event";
    const ID: event::Column = event::Column::Id;
    const STATUS: event::Column = event::Column::Status;
    const UPDATED_AT: event::Column = event::Column::UpdatedAt;
    const PUBLISHED_AT: event::Column = event::Column::PublishedAt;
    const ORGANIZATION_ID: event::Column = event::Column::OrganizationId;
    const PUBLISHED: event::EventStatus = event::EventStatus::Published;
}

impl Lifecycle for campaign::Entity {
    type Status = campaign::CampaignStatus;
    const NOUN: &'static str = "campaign";
    const ID: campaign::Column = campaign::Column::Id;
    const STATUS: campaign::Column = campaign::Column::Status;
    const UPDATED_AT: campaign::Column = campaign::Column::UpdatedAt;
    const PUBLISHED_AT: campaign::Column = campaign::Column::PublishedAt;
    const ORGANIZATION_ID: campaign::Column = campaign::Column::OrganizationId;
    const PUBLISHED: campaign::CampaignStatus = campaign::CampaignStatus::Published;
}

/// Rows `viewer` may see: published ones (once published, always: a cancelled event stays
/// readable), and any of organizations the viewer manages.
pub fn visible_to<E: Lifecycle>(viewer: Option<&account::Model>) -> Condition {
    let public = Condition::all().add(E::PUBLISHED_AT.is_not_null());
    match viewer {
        Some(v) => match authz::managed_orgs(v, E::ORGANIZATION_ID) {
            None => Condition::all(),
            Some(managed) => Condition::any().add(public).add(managed),
        },
        None => public,
    }
}

/// A status as messages say it: `published`, `no_show`.
pub fn word<S: ActiveEnum<Value = String>>(status: &S) -> String {
    status.to_value().to_lowercase()
}

/// Move row `id` from one of `from` to `to`. `current` is the status the caller read, for the
/// message when the row was not in `from` (or moved meanwhile): a `CONFLICT`.
pub async fn transition<E, C>(
    db: &C,
    id: i64,
    current: E::Status,
    from: &[E::Status],
    to: E::Status,
) -> AppResult<()>
where
    E: Lifecycle,
    E::Status: ActiveEnum<Value = String>,
    C: ConnectionTrait,
{
    let now = Utc::now();
    let mut update = E::update_many()
        .col_expr(E::STATUS, Expr::value(to))
        .col_expr(E::UPDATED_AT, Expr::value(now))
        .filter(E::ID.eq(id))
        .filter(E::STATUS.is_in(from.iter().copied()));
    if to == E::PUBLISHED {
        update = update.col_expr(E::PUBLISHED_AT, Expr::value(now));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "the {} is {} and cannot become {}",
            E::NOUN,
            word(&current),
            word(&to)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use entity::signup::SignupStatus;

    #[test]
    fn messages_name_a_status_in_lower_case() {
        assert_eq!(super::word(&SignupStatus::NoShow), "no_show");
        assert_eq!(super::word(&SignupStatus::Confirmed), "confirmed");
    }
}
