//! Everything that runs only on the server, in layers that only ever look
//! down (see `docs/architecture.md`):
//!
//! 1. [`config`]: settings and the on-disk layout; depends on nothing.
//! 2. [`store`]: the database, every record scoped to its team, and the
//!    event log written with each change.
//! 3. [`engine`] (runs pipelines) and [`realtime`] (publishes the event
//!    log to sockets), both on the store.
//! 4. What people and hooks do: [`sites`], [`teams`], [`uploads`],
//!    [`github`], [`insights`], [`previews`], [`passwords`], [`demo`], [`wallboard`],
//!    [`retention`] (the periodic cleanup), [`api_tokens`],
//!    [`notifications`] (outgoing hooks and their delivery); they take `&Db`,
//!    `&Engine`, `&Config`, never a request.
//! 5. [`web`]: the HTTP edge, the only layer that sees `AppState`.
//! 6. [`startup`]: builds all of it and serves it until a signal stops it.

pub mod api_tokens;
pub mod config;
pub mod demo;
pub mod engine;
pub mod github;
pub mod insights;
pub mod notifications;
pub mod passwords;
pub mod previews;
pub mod realtime;
pub mod retention;
pub mod sites;
pub mod startup;
pub mod store;
pub mod teams;
pub mod uploads;
pub mod wallboard;
pub mod web;
