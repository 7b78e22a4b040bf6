//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! a server answers at 127.0.0.1:5432 (or `FLIGHTDECK_TEST_PG`). Each is
//! dropped when the test ends, pass or fail. Under CI (`CI` set) a
//! PostgreSQL that does not answer fails the test instead of skipping it.

use flightdeck::server::store::Db;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::future::Future;

pub struct TestDb {
    pub db: Db,
    pub name: &'static str,
    /// Where it is, for a server or a second connection.
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = self
        {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop runs outside async; a short-lived runtime on its own thread drops the database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "drop database if exists {database} with (force)"
                            ))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("FLIGHTDECK_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("sqlite connects");
    TestDb {
        db,
        name: "sqlite",
        url,
        _cleanup: Cleanup::Dir(dir),
    }
}

/// Whether the tests run under CI, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A fresh PostgreSQL database, or `None` when no server answers (outside CI).
pub async fn postgres() -> Option<TestDb> {
    let admin_url = pg_admin_url();
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(e) if under_ci() => {
            panic!("PostgreSQL is required under CI but does not answer at {admin_url}: {e}")
        }
        Err(e) => {
            eprintln!(
                "PostgreSQL not reachable at {admin_url} ({e}); its half of this test is skipped"
            );
            return None;
        }
    };
    // The name is ours, made of a ULID: nothing from outside reaches this SQL.
    let database = format!(
        "flightdeck_test_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    sqlx::query(&format!("create database {database}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    let url = format!("{base}/{database}");
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        database,
    };
    let db = Db::connect(&url).await.expect("postgres connects");
    Some(TestDb {
        db,
        name: "postgres",
        url,
        _cleanup: cleanup,
    })
}

/// Runs the same test body on SQLite and, when reachable, on PostgreSQL.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = sqlite().await;
    test(sqlite.db.clone()).await;
    if let Some(pg) = postgres().await {
        test(pg.db.clone()).await;
    }
}
