//! Service projects and the lists behind 精准对接 (issue 20 part 3).
//!
//! A [`service`] project (社工服务项目) is run by an operator organization for a station or
//! room, paid from a funding source, over a period, with deliverables and a third-party
//! evaluator's reviews; events, help requests and disbursements can belong to it, and its
//! progress is counted from them. A station publishes its service list (服务清单) and a
//! community its needs (需求清单) and resources (资源清单) in [`lists`]; [`matching`] ranks
//! resources and projects against open needs, and a need is turned into a help request, an
//! event or a project in the same transaction that creates it.

pub mod graphql;
pub mod lists;
pub mod matching;
pub mod service;
