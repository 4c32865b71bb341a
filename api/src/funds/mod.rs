//! Community charity funds (社区慈善基金): donations in, disbursements out.
//!
//! A fund's balance lives on its row, next to its running totals of donations and
//! disbursements. A donation adds to it; a disbursement is one conditional `UPDATE … SET
//! balance_fen = balance_fen - x WHERE balance_fen >= x`, so concurrent disbursements can never
//! take a fund below zero, and `CHECK` constraints make a negative balance, or one that is not
//! donations minus disbursements, impossible to store. Every movement is a row (who, when, why)
//! and both mutations take an idempotency key, so a retry after a lost answer moves no money.

pub mod graphql;
pub mod service;
