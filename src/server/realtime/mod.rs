//! The live channel: committed changes, in commit order, to every open
//! page of the team.
//!
//! - [`bus`]: reads the event log in position order and hands each event,
//!   serialised once, to this instance's subscribers.
//! - [`socket`]: one WebSocket's replay, stream, heartbeats and goodbye.

pub mod bus;
pub mod socket;
