//! SeaORM models of Tongxing, one module per table. Models only: no business rules live here,
//! and none of these types is exposed through GraphQL directly (see `api`).

pub mod account;
pub mod membership;
pub mod organization;
pub mod organization_closure;
pub mod refresh_token;
