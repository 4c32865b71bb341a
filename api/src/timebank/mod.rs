//! The time bank (时间银行): a double-entry ledger of time coins, earned by approved service and
//! given or spent by volunteers. Hours and coins are separate ledgers.

pub mod graphql;
pub mod service;
