//! SeaORM models of Tongxing, one module per table. Models only: no business rules live here,
//! and none of these types is exposed through GraphQL directly (see `api`).

pub mod account;
pub mod api_client;
pub mod api_client_secret;
pub mod audit_log;
pub mod campaign;
pub mod charity_event;
pub mod charity_fund;
pub mod check_event;
pub mod disbursement;
pub mod donation;
pub mod help_offer;
pub mod help_request;
pub mod help_request_step;
pub mod idempotency_key;
pub mod identity;
pub mod live_event;
pub mod membership;
pub mod micro_wish;
pub mod organization;
pub mod organization_closure;
pub mod refresh_token;
pub mod service_certificate;
pub mod service_record;
pub mod service_record_change;
pub mod shift;
pub mod signup;
pub mod timebank_account;
pub mod timebank_entry;
pub mod timebank_transfer;
pub mod volunteer_profile;
