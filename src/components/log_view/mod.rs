//! The log viewer of a deployment's page: every step's log, its search
//! across steps, line links, folds and the reader's display choices. One
//! [`LogBook`] per page holds what the steps share; each step's
//! [`LogView`] draws only the rows on screen.

mod book;
mod browser;
mod dom;
mod rows;
mod view;

pub use book::{LogBook, StepLog, Whole};
pub use view::LogView;
