//! The HTTP edge: the only part of the server that sees [`state::AppState`]
//! or a request. Handlers and server functions read what they need here,
//! then call the layers below with plain values (`&Db`, `&Engine`,
//! `&Config`, an [`Actor`](crate::model::Actor)).
//!
//! - [`state`]: the shared state; [`context`]: what a server function
//!   reads from its request; [`session`]: who is signed in;
//!   [`bearer`]: API tokens in place of a session;
//! - [`middleware`]: the page guard, same-origin writes, error statuses;
//! - handlers: [`live`] (`/ws`), [`logs`], [`uploads`], [`hooks`]
//!   (GitHub), [`downloads`] (the command line's binary), [`previews`]
//!   (the preview hosts' outermost layer), [`assets`] (how long the
//!   browser keeps the bundle and pages).

pub mod assets;
pub mod bearer;
pub mod context;
pub mod downloads;
pub mod hooks;
pub mod live;
pub mod logs;
pub mod middleware;
pub mod previews;
pub mod session;
pub mod state;
pub mod throttle;
pub mod uploads;
