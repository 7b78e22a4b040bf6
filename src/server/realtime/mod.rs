//! The live channel: committed changes, in commit order, to every open
//! page of the team.
//!
//! - [`bus`]: reads the event log in position order and hands each event,
//!   serialised once, to its team's subscribers on this instance (through
//!   `hub`, one channel per team).
//! - [`socket`]: one WebSocket's replay, stream, heartbeats and goodbye,
//!   for a `viewer` (a member's page or a wallboard link's screen).

pub mod bus;
mod hub;
pub mod socket;
mod viewer;
