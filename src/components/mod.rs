//! Pieces shared by the pages.

pub mod copy_field;
pub mod deployment_table;
pub mod filters;
pub mod log_view;
pub mod shell;
pub mod states;
pub mod status;
pub mod time;
