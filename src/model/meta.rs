//! A deployment's `meta`: what an operation needs beyond the record's own
//! fields. Stored and sent as the same JSON object as ever; known keys are
//! typed, and any other key is kept as it came.

use super::ids::{ArchiveId, CapsuleId, DeploymentId, SiteId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Known keys in alphabetical order, the order they have always been
/// written in; absent ones are left out of the JSON. Read leniently: a
/// known key that does not hold what it should (a hand-edited row) stays
/// under `other` as it came, rather than making the record unreadable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Map<String, Value>")]
pub struct DeploymentMeta {
    /// The upload a deploy publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_id: Option<ArchiveId>,
    /// The capsule a time capsule writes, or a restore brings back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capsule_id: Option<CapsuleId>,
    /// The pull request preview a promotion publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<DeploymentId>,
    /// The earlier deploy a rollback publishes again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<DeploymentId>,
    /// The release a clone or staging copy copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_deployment_id: Option<DeploymentId>,
    /// The site a clone or staging copy was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_site_id: Option<SiteId>,
    /// A staging copy's own site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_id: Option<SiteId>,
    /// Keys this version does not know (written by an operator's tooling
    /// or a newer instance), kept so a retry passes them on.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl From<Map<String, Value>> for DeploymentMeta {
    fn from(mut map: Map<String, Value>) -> Self {
        fn take<T: DeserializeOwned>(map: &mut Map<String, Value>, key: &str) -> Option<T> {
            let value = serde_json::from_value(map.get(key)?.clone()).ok()?;
            map.remove(key);
            Some(value)
        }
        Self {
            archive_id: take(&mut map, "archive_id"),
            capsule_id: take(&mut map, "capsule_id"),
            promoted_from: take(&mut map, "promoted_from"),
            rollback_of: take(&mut map, "rollback_of"),
            source_deployment_id: take(&mut map, "source_deployment_id"),
            source_site_id: take(&mut map, "source_site_id"),
            staging_id: take(&mut map, "staging_id"),
            other: map.into_iter().collect(),
        }
    }
}

impl DeploymentMeta {
    /// The earlier release whose files this operation publishes or copies
    /// (`FLIGHTDECK_SOURCE_DIR`): a copy's source, a rollback's target, a
    /// promoted preview.
    pub fn source_release(&self) -> Option<DeploymentId> {
        self.source_deployment_id
            .or(self.rollback_of)
            .or(self.promoted_from)
    }

    /// The JSON object, as stored and as steps see it in `FLIGHTDECK_META`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads stored meta; anything but a JSON object reads as empty.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// Every top-level scalar as `(KEY, value)`: the key upper-cased with
    /// anything but A-Z, 0-9 and _ dropped. Steps get them as
    /// `FLIGHTDECK_META_<KEY>`.
    pub fn scalars(&self) -> Vec<(String, String)> {
        let Value::Object(map) = serde_json::to_value(self).unwrap_or_default() else {
            return Vec::new();
        };
        map.iter()
            .filter_map(|(k, v)| {
                let key: String = k
                    .to_uppercase()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                (!key.is_empty()).then_some((key, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ulid::Ulid;

    #[test]
    fn meta_is_the_same_json_as_ever() {
        let site = SiteId(Ulid::from_parts(1, 1));
        let release = DeploymentId(Ulid::from_parts(2, 2));
        let copy = DeploymentMeta {
            source_site_id: Some(site),
            source_deployment_id: Some(release),
            staging_id: Some(site),
            ..Default::default()
        };
        let old = serde_json::json!({
            "source_site_id": site,
            "source_deployment_id": release,
            "staging_id": site,
        });
        assert_eq!(copy.to_json(), old.to_string());
        assert_eq!(DeploymentMeta::default().to_json(), "{}");
        assert_eq!(DeploymentMeta::from_json(&old.to_string()), copy);
    }

    #[test]
    fn unknown_keys_survive_and_bad_known_ones_do_not_break_the_record() {
        let meta = DeploymentMeta::from_json(r#"{"ticket":"OPS-7","attempt":3,"capsule_id":"c1"}"#);
        assert_eq!(meta.capsule_id, None);
        assert_eq!(meta.other["ticket"], "OPS-7");
        assert_eq!(meta.other["capsule_id"], "c1");
        let mut scalars = meta.scalars();
        scalars.sort();
        assert_eq!(
            scalars,
            [
                ("ATTEMPT".to_string(), "3".to_string()),
                ("CAPSULE_ID".into(), "c1".into()),
                ("TICKET".into(), "OPS-7".into())
            ]
        );
        assert_eq!(
            DeploymentMeta::from_json("not json"),
            DeploymentMeta::default()
        );
    }
}
