//! Input rules shared by the forms and the server, so both say the same thing.

use super::AppError;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const NAME_MAX_CHARS: usize = 100;
const EMAIL_MAX_CHARS: usize = 254;

/// Trims and lowercases an email address, or explains what is wrong with it.
pub fn email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::invalid("Enter your email address."));
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(AppError::invalid("That email address is too long."));
    }
    let malformed =
        || AppError::invalid("That does not look like an email address (name@example.com).");
    let (local, domain) = email.split_once('@').ok_or_else(malformed)?;
    let domain_ok = !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '@' && c != '<' && c != '>');
    if domain_ok && local_ok {
        Ok(email)
    } else {
        Err(malformed())
    }
}

/// Checks a new password's length; its content is the user's business.
pub fn new_password(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Err(AppError::invalid(format!(
            "Use a password of at least {PASSWORD_MIN_CHARS} characters."
        )))
    } else if chars > PASSWORD_MAX_CHARS {
        Err(AppError::invalid(format!(
            "Use a password of at most {PASSWORD_MAX_CHARS} characters."
        )))
    } else {
        Ok(())
    }
}

/// A display name (person, team or site): trimmed, not empty, not huge.
pub fn name(raw: &str, what: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(format!("Enter a {what}.")));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::invalid(format!(
            "Keep the {what} under {NAME_MAX_CHARS} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(format!(
            "The {what} cannot contain control characters."
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_malformed_ones_refused() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        assert_eq!(
            email("demo@flightdeck.local").unwrap(),
            "demo@flightdeck.local"
        );
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@exa mple.com",
            "ada@@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn passwords_must_be_between_the_limits() {
        assert!(new_password("short").is_err());
        assert!(new_password("long enough").is_ok());
        assert!(new_password(&"x".repeat(10_000)).is_err());
        assert!(new_password(&"x".repeat(PASSWORD_MAX_CHARS)).is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Acme  ", "team name").unwrap(), "Acme");
        assert!(name("   ", "team name").is_err());
        assert!(name(&"n".repeat(101), "team name").is_err());
        assert!(name("bad\u{0}name", "team name").is_err());
    }
}
