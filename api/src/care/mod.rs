//! The people the network serves (issue 21). Part 1, the [`register`] of people served
//! (服务对象): sensitive personal information (PIPL art. 28) kept by a station or room, sealed at
//! rest, read only by its staff — masked in lists, whole only when one record is opened — with
//! every read written to the audit log, kept only under a recorded consent, and erased on
//! request down to what statistics count.

pub mod graphql;
pub mod plans;
pub mod register;
