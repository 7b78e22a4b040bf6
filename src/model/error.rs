//! The one error type that crosses the wire.
//!
//! Internal details (SQL errors, I/O) are logged on the server; the browser
//! gets a sentence a person can act on and the HTTP status that fits.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, in terms a client can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input was malformed or broke a rule; nothing was changed. 400.
    Invalid,
    /// No session, or the session expired. 401.
    Unauthenticated,
    /// Signed in, but the role does not allow this action. 403.
    Forbidden,
    /// The record does not exist or belongs to another team: the two
    /// answer alike so ids of other teams cannot be probed. 404.
    NotFound,
    /// The request clashes with the current state (a duplicate email, a
    /// busy site). 409.
    Conflict,
    /// The body is larger than the endpoint reads (an upload, a webhook). 413.
    TooLarge,
    /// Too many attempts (sign-in): try again after `retry_after` seconds. 429.
    TooMany,
    /// The server is too busy to take this now (password hashing is
    /// queued full); try again shortly. 503.
    Busy,
    /// Anything unexpected; details are in the server log. 500.
    Internal,
}

/// An error a person can read, with the kind that picks its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// For `too_many` and `busy`: seconds to wait before trying again (also
    /// sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Too many attempts: wait `secs` seconds.
    pub fn too_many(message: impl Into<String>, secs: u64) -> Self {
        Self {
            retry_after: Some(secs),
            ..Self::new(ErrorKind::TooMany, message)
        }
    }

    /// Too busy now: try again in a moment.
    pub fn busy() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                ErrorKind::Busy,
                "Flightdeck is busy signing people in; try again in a moment.",
            )
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, format!("{what} not found."))
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, "Please sign in to continue.")
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }

    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::Invalid => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::TooLarge => 413,
            ErrorKind::TooMany => 429,
            ErrorKind::Busy => 503,
            ErrorKind::Internal => 500,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // The request never reached us or the form was malformed.
            E::Args(m) | E::MissingArg(m) => {
                Self::invalid(format!("The request was malformed: {m}"))
            }
            E::Request(_) | E::Response(_) => Self::new(
                ErrorKind::Internal,
                "Flightdeck could not be reached. Check your connection and try again.",
            ),
            _ => Self::internal(),
        }
    }
}
