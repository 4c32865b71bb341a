//! Service certificates (志愿服务证明): approved service of one volunteer over a period, by
//! event, issued in an organization's name under a unique number, verifiable by anyone with the
//! number and downloadable as a PDF by the volunteer and the issuer's staff.

pub mod graphql;
pub mod pdf;
pub mod service;
