//! Where deployed sites are served: `FLIGHTDECK_PREVIEW_URL`, a template
//! whose host starts with the `{id}` label.

/// The preview URL template (`http://{id}.preview.localhost:3000/`) and the
/// host names it covers.
#[derive(Clone, Debug)]
pub struct PreviewHosts {
    /// Everything before `{id}`: `http://`.
    scheme: String,
    /// The host after the id's label, lowercase, with its dot: `.preview.localhost`.
    suffix: String,
    /// Whatever follows the host: `:3000/`.
    rest: String,
}

impl PreviewHosts {
    /// Parses a template whose host starts with the `{id}` label.
    pub fn parse(template: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "FLIGHTDECK_PREVIEW_URL must look like http://{{id}}.preview.example.com/ (got {template:?})"
            )
        };
        let (scheme, after) = ["https://", "http://"]
            .iter()
            .find_map(|s| template.strip_prefix(s).map(|rest| (*s, rest)))
            .ok_or_else(bad)?;
        let after = after.strip_prefix("{id}").ok_or_else(bad)?;
        let host_end = after.find([':', '/']).unwrap_or(after.len());
        let (suffix, rest) = after.split_at(host_end);
        let valid_host = suffix.len() > 1
            && suffix.starts_with('.')
            && suffix[1..]
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid_host || rest.contains("{id}") {
            return Err(bad());
        }
        let rest = if rest.is_empty() { "/" } else { rest };
        Ok(Self {
            scheme: scheme.to_string(),
            suffix: suffix.to_ascii_lowercase(),
            rest: rest.to_string(),
        })
    }

    /// The default: `http://{id}.preview.localhost:<port>/`, which every
    /// browser resolves to this machine.
    pub fn local(port: u16) -> Self {
        Self {
            scheme: "http://".into(),
            suffix: ".preview.localhost".into(),
            rest: format!(":{port}/"),
        }
    }

    /// The URL that serves a deployment, or a site's current deployment.
    pub fn url(&self, id: impl std::fmt::Display) -> String {
        let label = id.to_string().to_ascii_lowercase();
        format!("{}{label}{}{}", self.scheme, self.suffix, self.rest)
    }

    /// The id label when `host` (a `Host` header, port included or not)
    /// is a preview host.
    pub fn label<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        let cut = name.len().checked_sub(self.suffix.len())?;
        let (label, suffix) = (name.get(..cut)?, name.get(cut..)?);
        (suffix.eq_ignore_ascii_case(&self.suffix) && !label.is_empty() && !label.contains('.'))
            .then_some(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_hosts_come_from_the_template() {
        let h = PreviewHosts::parse("http://{id}.preview.localhost:3000/").expect("template");
        assert_eq!(h.url("01ABC"), "http://01abc.preview.localhost:3000/");
        assert_eq!(h.label("01abc.preview.localhost:3000"), Some("01abc"));
        assert_eq!(h.label("01ABC.Preview.Localhost"), Some("01ABC"));
        assert_eq!(h.label("preview.localhost:3000"), None);
        assert_eq!(h.label("a.b.preview.localhost"), None);
        assert_eq!(h.label("127.0.0.1:3000"), None);
        assert_eq!(h.label("evilpreview.localhost"), None);
        let https = PreviewHosts::parse("https://{id}.previews.example.com").expect("template");
        assert_eq!(https.url("x"), "https://x.previews.example.com/");
        for bad in [
            "ftp://{id}.x.com",
            "http://x.com/{id}",
            "http://{id}",
            "http://{id}.x..com",
            "http://{id}.x.com/{id}",
        ] {
            assert!(PreviewHosts::parse(bad).is_err(), "{bad}");
        }
    }
}
