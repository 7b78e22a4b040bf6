//! Storage: every SQL statement of Flightdeck lives in this folder. One
//! code path for SQLite and PostgreSQL over sqlx's `Any` driver; reads
//! and writes of team data take the team id, so nothing crosses teams.
//!
//! - [`db`]: the pool, the backend, migrations.
//! - [`changes`]: every write to a deployment or a step, with its change
//!   event in the same transaction (the event log); [`event_log`]: reading it.
//! - [`accounts`], [`members`], [`invites`], [`sites`], [`deployments`]:
//!   records, scoped to a team.
//! - [`locks`]: deploy locks, and the pushes they hold.
//! - [`releases`]: what a preview host may serve, and release sizes.
//! - [`insights`]: the daily totals the insights page reads.
//! - [`retention`]: what the periodic cleanup reads and removes.
//! - [`wallboard_links`]: read-only links to a team's wallboard.
//! - [`api_tokens`]: tokens scripts and CI act with;
//!   [`notifications`]: notification hooks and their outbox.
//! - [`sessions`]: tower-sessions records in the same database.
//! - [`instances`]: the instances sharing the database and their leases;
//!   [`notify`]: how they wake each other (`LISTEN`/`NOTIFY`).

pub mod accounts;
pub mod api_tokens;
pub mod changes;
mod columns;
pub mod db;
pub mod deployments;
pub mod event_log;
pub mod insights;
pub mod instances;
pub mod invites;
pub mod locks;
pub mod members;
pub mod notifications;
pub mod notify;
pub mod output_times;
pub mod releases;
pub mod retention;
pub mod sessions;
pub mod sites;
pub mod wallboard_links;

pub use db::{Backend, Db, now_ms, unique_violation};
