//! The test toolkit, shared by every integration test and the benches:
//! databases on both backends ([`db`]), a real server on `127.0.0.1:0`
//! with typed API calls ([`server`]), the real binary as a child process
//! ([`binary`]), and [`eventually`], the one way a test waits.

#![allow(dead_code, unused_imports)]

pub mod binary;
pub mod cluster;
pub mod db;
pub mod github;
pub mod load;
pub mod receiver;
pub mod server;

pub use db::{TestDb, on_each_backend, postgres, sqlite};
use std::future::Future;
use std::time::{Duration, Instant};

/// Waits until `check` answers `Some`, trying again every 20 ms, and
/// fails the test naming `what` if it has not within `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
