//! Input rules shared by the forms and the server, so both say the same thing.

use super::error::AppError;

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

/// The most characters a lock's reason may have.
pub const REASON_MAX_CHARS: usize = 200;

/// Why a site is locked, as its refusals will quote it: one line.
pub fn lock_reason(raw: &str) -> Result<String, AppError> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "Say why the site is locked: the reason is shown to everyone who tries to deploy.",
        ));
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(AppError::invalid(format!(
            "Keep the reason under {REASON_MAX_CHARS} characters."
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "The reason must be one line, without control characters.",
        ));
    }
    Ok(reason.to_string())
}

/// A branch name or a commit SHA, as someone may type it to deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitRef {
    Branch(String),
    Commit(String),
}

/// Checks a branch name or commit against git's rules for ref names, so it
/// is safe to hand to git (as an environment variable, never in a command).
pub fn git_ref(raw: &str) -> Result<GitRef, AppError> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(AppError::invalid("Enter a branch name or a commit."));
    }
    if r.len() > 200 {
        return Err(AppError::invalid(
            "That branch name is too long (200 characters at most).",
        ));
    }
    if (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(GitRef::Commit(r.to_lowercase()));
    }
    let ok_chars = r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    let bad_shape = r.starts_with(['-', '/', '.'])
        || r.ends_with(['/', '.'])
        || r.ends_with(".lock")
        || r.contains("..")
        || r.contains("//")
        || r.contains("/.");
    if !ok_chars || bad_shape {
        return Err(AppError::invalid(
            "That is not a valid branch name: use letters, digits, '.', '_', '-' and '/'.",
        ));
    }
    Ok(GitRef::Branch(r.to_string()))
}

const REPOSITORY_MAX_CHARS: usize = 500;

/// A repository to deploy from: an `https://`, `http://`, `ssh://` or
/// `git@host:path` URL, or an absolute path to a repository on the server.
/// Nothing that git could read as an option, no whitespace or control
/// characters, no `..` in a path.
pub fn repository(raw: &str) -> Result<String, AppError> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(AppError::invalid(
            "Enter the repository to deploy from (a git URL or a path on the server).",
        ));
    }
    if r.chars().count() > REPOSITORY_MAX_CHARS {
        return Err(AppError::invalid(format!(
            "Keep the repository under {REPOSITORY_MAX_CHARS} characters."
        )));
    }
    if r.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid(
            "The repository cannot contain spaces or control characters.",
        ));
    }
    let url_rest = ["https://", "http://", "ssh://"]
        .iter()
        .find_map(|scheme| r.strip_prefix(scheme));
    let ok = if let Some(rest) = url_rest {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.starts_with(['-', '.', ':', '@'])
    } else if let Some(rest) = r.strip_prefix("git@") {
        matches!(rest.split_once(':'), Some((host, path)) if !host.is_empty() && !path.is_empty() && !host.starts_with('-'))
    } else if r.starts_with('/') {
        !r.split('/').any(|part| part == "..")
    } else {
        false
    };
    if ok {
        Ok(r.to_string())
    } else {
        Err(AppError::invalid(
            "Use a git URL (https://github.com/you/site, git@github.com:you/site.git) or an absolute path to a repository on the server.",
        ))
    }
}

/// A checkbox or flag: present and on, or off. Anything else is refused.
pub fn flag(raw: Option<&str>, what: &str) -> Result<bool, AppError> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "off" | "0" | "no") => Ok(false),
        Some("true" | "on" | "1" | "yes") => Ok(true),
        Some(_) => Err(AppError::invalid(format!(
            "{what} is either on or off (true or false)."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_reason_is_one_trimmed_line_of_bounded_length() {
        assert_eq!(lock_reason("  release freeze  ").unwrap(), "release freeze");
        for bad in ["", "   ", "two\nlines", &"x".repeat(REASON_MAX_CHARS + 1)] {
            assert!(lock_reason(bad).is_err(), "{bad:?}");
        }
        assert!(lock_reason(&"é".repeat(REASON_MAX_CHARS)).is_ok());
    }

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
    fn git_refs_are_branches_or_commits_and_nothing_else() {
        assert_eq!(git_ref(" main ").unwrap(), GitRef::Branch("main".into()));
        assert_eq!(
            git_ref("feature/new-ui_2").unwrap(),
            GitRef::Branch("feature/new-ui_2".into())
        );
        assert_eq!(
            git_ref("ABCDEF1").unwrap(),
            GitRef::Commit("abcdef1".into())
        );
        for bad in [
            "",
            "-rf",
            "a..b",
            "x; rm -rf /",
            "$(id)",
            "a b",
            "../etc",
            "main.lock",
            "/abs",
            "é",
        ] {
            assert!(git_ref(bad).is_err(), "{bad:?}");
        }
        assert!(git_ref(&"b".repeat(1_000_000)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Acme  ", "team name").unwrap(), "Acme");
        assert!(name("   ", "team name").is_err());
        assert!(name(&"n".repeat(101), "team name").is_err());
        assert!(name("bad\u{0}name", "team name").is_err());
    }

    #[test]
    fn repositories_are_git_urls_or_absolute_paths() {
        for ok in [
            "https://github.com/acme/web",
            "git@github.com:acme/web.git",
            "ssh://git@example.com/acme/web.git",
            "/srv/git/web",
        ] {
            assert_eq!(repository(&format!(" {ok} ")).unwrap(), ok);
        }
        for bad in [
            "",
            "github.com/acme/web",
            "--upload-pack=touch /tmp/x",
            "-oProxyCommand=x",
            "ssh://-oProxyCommand=x/y",
            "https:///path",
            "/srv/../etc",
            "relative/path",
            "https://github.com/acme/web; rm -rf /",
            "file:///etc",
            "git@:path",
        ] {
            assert!(repository(bad).is_err(), "{bad:?}");
        }
        assert!(repository(&format!("https://x.com/{}", "a".repeat(1_000_000))).is_err());
    }

    #[test]
    fn flags_are_on_or_off() {
        assert!(!flag(None, "Auto-deploy").unwrap());
        assert!(flag(Some("on"), "Auto-deploy").unwrap());
        assert!(!flag(Some("false"), "Auto-deploy").unwrap());
        assert!(flag(Some("maybe"), "Auto-deploy").is_err());
    }
}
