//! Micro-wishes (微心愿): staff post a resident's small wish under an alias; one volunteer or
//! donor claims it — a single conditional `UPDATE`, so exactly one of many concurrent claims
//! wins —, fulfils it before the claim lapses (`TONGXING_WISH_CLAIM_HOURS`, default 7 days),
//! and staff confirm. A lapsed claim counts as `OPEN` at once and is rewritten by upkeep.

pub mod graphql;
pub mod service;
