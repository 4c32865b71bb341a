//! Authentication: password hashing, access tokens (JWT), refresh tokens, login throttling and
//! the per-request [`Viewer`].

pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod refresh;
mod viewer;

pub use viewer::Viewer;
