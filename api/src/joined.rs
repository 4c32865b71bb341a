//! The joined fast paths: several models read from one row of one statement (a shift with
//! its event, the event's organization and campaign), so the hottest list shapes cost one
//! statement instead of one per relation level.
//!
//! Models are read by column *position*, not by prefixed name: sea-orm's prefixed read
//! formats a string and hashes it for every column of every row, which was a fifth of the
//! home feed's CPU (perf, city-sized data set, 50 rows × 61 columns a request).

use sea_orm::{DbErr, EntityTrait, QueryResult, Select};

/// Select every column of `T` (a table joined into `select`) as `{prefix}{column}`, for a
/// joined fast path that reads several models from one row
/// (`Model::from_query_result(row, prefix)`).
pub fn columns_of<T: EntityTrait, E: EntityTrait>(select: Select<E>, prefix: &str) -> Select<E> {
    use sea_orm::{IdenStatic, Iterable, QuerySelect, sea_query::Expr};
    let mut select = select;
    for c in T::Column::iter() {
        select = select.column_as(
            Expr::col((T::default(), c)),
            format!("{prefix}{}", c.as_str()),
        );
    }
    select
}

/// A model read from consecutive columns of a row, in its entity's column order (what
/// [`columns_of`] selects).
pub trait Positional: Sized {
    /// Its columns, in order.
    const COLUMNS: &'static [&'static str];

    /// Read it from the columns starting at `at`.
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr>;

    /// Read it from the columns starting at `at`, or `None` where a left join found no row
    /// (its key is null).
    fn read_optional(row: &QueryResult, at: usize) -> Result<Option<Self>, DbErr> {
        match row.try_get_by_index::<Option<i64>>(at)? {
            Some(_) => Self::read(row, at).map(Some),
            None => Ok(None),
        }
    }
}

macro_rules! positional {
    ($model:path { $($field:ident),* $(,)? }) => {
        impl Positional for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            #[allow(unused_assignments)]
            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let mut i = at;
                Ok(Self {
                    $($field: {
                        let v = row.try_get_by_index(i)?;
                        i += 1;
                        v
                    }),*
                })
            }
        }
    };
}

positional!(entity::shift::Model {
    id,
    event_id,
    series_key,
    title,
    description,
    starts_at,
    ends_at,
    capacity,
    confirmed_count,
    waitlist_enabled,
    waitlist_seq,
    required_skills,
    check_in_radius_meters,
    check_in_opens_minutes,
    status,
    cancel_reason,
    created_at,
    updated_at,
});
positional!(entity::charity_event::Model {
    id,
    organization_id,
    campaign_id,
    title,
    description,
    category,
    address,
    latitude,
    longitude,
    starts_at,
    ends_at,
    status,
    cancel_reason,
    published_at,
    auto_approve_verified,
    accept_location_evidence,
    created_by,
    created_at,
    updated_at,
    project_id,
});
positional!(entity::organization::Model {
    id,
    name,
    kind,
    parent_id,
    region_code,
    address,
    latitude,
    longitude,
    created_at,
    updated_at,
});
positional!(entity::campaign::Model {
    id,
    organization_id,
    title,
    description,
    status,
    starts_at,
    ends_at,
    volunteer_hours_goal,
    fundraising_goal_fen,
    cover_image_url,
    published_at,
    created_by,
    created_at,
    updated_at,
    raised_fen,
});

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::*;

    fn columns<T: EntityTrait>() -> Vec<&'static str> {
        T::Column::iter().map(|c| c.as_str()).collect()
    }

    /// The positional readers list the entities' columns in the order `columns_of` selects
    /// them: a column added to an entity and not here fails this test, not a request.
    #[test]
    fn positional_readers_follow_the_entities_column_order() {
        use entity::{campaign, charity_event, organization, shift};
        assert_eq!(shift::Model::COLUMNS, columns::<shift::Entity>());
        assert_eq!(
            charity_event::Model::COLUMNS,
            columns::<charity_event::Entity>()
        );
        assert_eq!(
            organization::Model::COLUMNS,
            columns::<organization::Entity>()
        );
        assert_eq!(campaign::Model::COLUMNS, columns::<campaign::Entity>());
    }
}
