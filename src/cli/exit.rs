//! How a command ends: its exit code, a contract for scripts (README,
//! "Command line"), and the failure that says why.

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done; a deployment waited for completed.
    Completed = 0,
    /// A deployment waited for failed or was cancelled.
    Failed = 1,
    /// The server refused (a busy or locked site, a bad token, an unknown
    /// site), or the command line was wrong.
    Refused = 2,
    /// The server could not be reached or failed itself.
    Unreachable = 3,
    /// Ctrl-C.
    Interrupted = 130,
}

/// Why a command stopped, with the exit code it gives.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Refused,
            message: message.into(),
        }
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Unreachable,
            message: message.into(),
        }
    }
}
