//! The database: one code path for SQLite and PostgreSQL over sqlx's `Any`
//! driver, the backend chosen from the URL at start.

pub use super::notify::Signals;
use crate::model::AppError;
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A transaction on either backend.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which database server a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections and the backend behind it. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// What this instance hears of the others' commits (and its own): on
    /// PostgreSQL through `LISTEN`, see [`super::notify`].
    pub signals: Arc<Signals>,
    /// Where it is, for the listener's own connection (never printed: it
    /// may hold a password).
    url: Arc<str>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Connects, creating a SQLite file (and its folder) when missing, and
    /// applies every migration not applied yet.
    pub async fn connect(url: &str) -> Result<Self, String> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(format!(
                "DATABASE_URL must start with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or_default()
            ));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                // Every connection to :memory: is a database of its own.
                Backend::Sqlite if url.contains(":memory:") => 1,
                // SQLite has one writer; a few readers are plenty.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10));
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        if backend == Backend::Sqlite {
            // WAL lets readers go on while one writer commits; the mode is
            // stored in the file. sqlx already turns foreign keys on and
            // waits 5 s on a locked database.
            sqlx::query("pragma journal_mode = wal")
                .execute(&pool)
                .await
                .map_err(|e| format!("cannot switch SQLite to WAL: {e}"))?;
        }
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| format!("cannot apply migrations: {e}"))?;
        let db = Self {
            pool,
            backend,
            signals: Default::default(),
            url: url.into(),
        };
        if backend == Backend::Postgres {
            super::notify::spawn_listener(db.url.to_string(), Arc::downgrade(&db.signals));
        }
        Ok(db)
    }

    /// Another pool on the same database, with signals of its own: what a
    /// second instance would have (tests run two engines this way).
    pub async fn connect_again(&self) -> Result<Self, String> {
        Self::connect(&self.url).await
    }
}

/// Makes sure the folder of a SQLite file exists and the file is created on
/// first use.
fn prepare_sqlite_url(url: &str) -> Result<String, String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut query = query.to_string();
    if !query.contains("mode=") {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{query}"))
}

/// Logs a database error and gives the browser a sentence instead.
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::internal()
    }
}

/// The name (PostgreSQL) or description (SQLite) of the unique constraint a
/// write broke, if that is why it failed.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let db = err.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    Some(
        db.constraint()
            .map(str::to_string)
            .unwrap_or_else(|| db.message().to_string()),
    )
}

/// Milliseconds since the epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    crate::model::time::now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_their_folder_and_create_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("nested/fd.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", file.display())).expect("url");
        assert!(url.ends_with("?mode=rwc"));
        assert!(file.parent().expect("parent").is_dir());
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:").expect("url"),
            "sqlite://:memory:?mode=rwc"
        );
    }
}
