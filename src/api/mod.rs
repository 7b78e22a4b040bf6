//! Server functions, grouped by domain. Each lives at `/api/<name>`, takes
//! the default form encoding and answers JSON; names are a public contract.

pub mod auth;
pub mod deployments;
pub mod insights;
pub mod integrations;
pub mod live;
pub mod sites;
pub mod teams;
pub mod wallboard;
