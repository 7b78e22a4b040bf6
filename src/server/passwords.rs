//! Passwords (argon2id, off the async threads, a few at a time) and the
//! tokens of links that must not be guessed (invites).

use crate::model::AppError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A hash to verify against when the email is unknown, so a wrong email and
/// a wrong password take the same time.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y4eTMTQ0lRMTSVOAsMnNEMntG6Sdzp9s1E/ouMZMVT0";

/// Each argon2 run takes ~19 MiB and a core for a while; a burst of sign-ins
/// waits here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// How many may wait for [`HASHING`]; past that a request is answered
/// "busy" at once instead of joining an ever longer queue.
const MAX_WAITING: usize = 32;
static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A place in the hashing queue, or `Busy` when it is full.
async fn permit() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    use std::sync::atomic::Ordering;
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return Err(AppError::busy());
    }
    let permit = HASHING.acquire().await.map_err(|_| AppError::internal());
    WAITING.fetch_sub(1, Ordering::SeqCst);
    permit
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash(password: String) -> Result<String, AppError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::internal()
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::internal()
    })
}

/// Whether `password` matches `hash`; false for a malformed hash; `Busy`
/// when too many are waiting.
pub async fn verify(password: String, hash: String) -> Result<bool, AppError> {
    let _permit = permit().await?;
    Ok(tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false))
}

/// A new token of 256 random bits as hex, and the hash to store for it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored for a token: its SHA-256, as hex. A token is long and
/// random, so a fast hash is enough, and a leaked table opens nothing.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_hashed() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash, token_hash(&a));
        assert_ne!(hash, a);
        assert_eq!(token_hash(&format!(" {a}\n")), hash);
    }
}
