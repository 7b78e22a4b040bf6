//! Pieces shared by the pages.

pub mod shell;
pub mod states;
pub mod status;
pub mod time;
