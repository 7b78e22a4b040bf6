//! Pipeline definitions: compiled-in defaults, replaceable per type from the
//! TOML file named by `FLIGHTDECK_PIPELINES`.

use crate::model::{Phase, PipelineType};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

mod key;
pub use key::PipelineKey;

const DEFAULTS: &str = include_str!("pipelines.toml");
const MAX_TIMEOUT_SECS: u64 = 24 * 3600;

/// One step as the runner needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSpec {
    pub name: String,
    pub phase: Option<Phase>,
    /// Run as `sh -c <run>`.
    pub run: String,
    pub timeout: Duration,
    /// Whether the step runs in the sandbox (the default); an operator's
    /// own step may say `sandbox = false` to reach the host (ssh, docker).
    pub sandbox: bool,
}

/// An ordered list of steps and the template of the operation's name.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// `{branch}`, `{commit}`, `{site}` and `{pr}` are filled in at trigger time.
    pub operation_name: String,
    pub steps: Vec<StepSpec>,
}

/// Every pipeline's definition.
#[derive(Clone, Debug)]
pub struct Pipelines(HashMap<PipelineKey, Pipeline>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    pipelines: BTreeMap<Spanned<String>, PipelineDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineDef {
    operation_name: Spanned<String>,
    steps: Spanned<Vec<StepDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDef {
    name: Spanned<String>,
    phase: Option<Spanned<String>>,
    run: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<i64>>,
    sandbox: Option<bool>,
}

impl Pipelines {
    /// The compiled-in defaults, with the types a file defines replaced.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut pipelines = parse(DEFAULTS, "the compiled-in pipelines")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let custom = parse(&text, &path.display().to_string())?;
            pipelines.extend(custom);
        }
        for key in PipelineKey::all() {
            if !pipelines.contains_key(&key) {
                return Err(format!("no pipeline is defined for {key}"));
            }
        }
        Ok(Self(pipelines))
    }

    /// The defaults with the types defined in `text` replaced (tests, tools).
    pub fn with_overrides(text: &str) -> Result<Self, String> {
        let mut pipelines = parse(DEFAULTS, "the compiled-in pipelines")?;
        pipelines.extend(parse(text, "overrides")?);
        Ok(Self(pipelines))
    }

    pub fn get(&self, t: PipelineType) -> &Pipeline {
        self.by_key(PipelineKey::Type(t))
    }

    pub fn by_key(&self, key: PipelineKey) -> &Pipeline {
        // `load` refuses to finish without every key, and the defaults
        // define them all.
        &self.0[&key]
    }
}

/// Parses a pipelines file; every error names the file and the line.
pub fn parse(text: &str, origin: &str) -> Result<HashMap<PipelineKey, Pipeline>, String> {
    let at = |span: std::ops::Range<usize>| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        format!("{origin}, line {line}")
    };
    let file: FileDef = toml::from_str(text).map_err(|e| {
        let place = e.span().map(&at).unwrap_or_else(|| origin.to_string());
        format!("{place}: {}", e.message())
    })?;
    let mut out = HashMap::new();
    for (key, def) in file.pipelines {
        let t = PipelineKey::parse(key.get_ref()).ok_or_else(|| {
            let known: Vec<_> = PipelineKey::all().map(|k| k.to_string()).collect();
            format!(
                "{}: unknown pipeline type {:?}; known: {}",
                at(key.span()),
                key.get_ref(),
                known.join(", ")
            )
        })?;
        if def.operation_name.get_ref().trim().is_empty() {
            return Err(format!(
                "{}: operation_name is empty",
                at(def.operation_name.span())
            ));
        }
        let steps_span = def.steps.span();
        let step_defs = def.steps.into_inner();
        if step_defs.is_empty() {
            return Err(format!("{}: pipeline {t} has no steps", at(steps_span)));
        }
        let mut steps = Vec::with_capacity(step_defs.len());
        for s in step_defs {
            let name = s.name.get_ref().trim().to_string();
            if name.is_empty() {
                return Err(format!("{}: a step needs a name", at(s.name.span())));
            }
            let run = s
                .run
                .as_ref()
                .filter(|r| !r.get_ref().trim().is_empty())
                .ok_or_else(|| {
                    format!("{}: step {name:?} has no `run` command", at(s.name.span()))
                })?
                .get_ref()
                .clone();
            let phase = match &s.phase {
                None => None,
                Some(p) if !t.is_deploy() => {
                    return Err(format!(
                        "{}: `phase` belongs to deploy pipelines only",
                        at(p.span())
                    ));
                }
                Some(p) => Some(Phase::parse(p.get_ref()).ok_or_else(|| {
                    format!(
                        "{}: phase must be build or deploy, not {:?}",
                        at(p.span()),
                        p.get_ref()
                    )
                })?),
            };
            let timeout = match &s.timeout_secs {
                None => Duration::from_secs(600),
                Some(v) => {
                    let secs = *v.get_ref();
                    if secs <= 0 || secs as u64 > MAX_TIMEOUT_SECS {
                        return Err(format!(
                            "{}: timeout_secs must be between 1 and {MAX_TIMEOUT_SECS}, not {secs}",
                            at(v.span())
                        ));
                    }
                    Duration::from_secs(secs as u64)
                }
            };
            steps.push(StepSpec {
                name,
                phase,
                run,
                timeout,
                sandbox: s.sandbox.unwrap_or(true),
            });
        }
        out.insert(
            t,
            Pipeline {
                operation_name: def.operation_name.into_inner(),
                steps,
            },
        );
    }
    Ok(out)
}

/// What an operation's name is filled in with.
pub struct NameParts<'a> {
    pub site: &'a str,
    pub branch: Option<&'a str>,
    pub commit: Option<&'a str>,
    pub pr: Option<i64>,
    /// The short id of the release a rollback or promotion publishes.
    pub release: Option<&'a str>,
}

/// Fills `{branch}`, `{commit}`, `{site}`, `{pr}` and `{release}` in an
/// operation name.
pub fn operation_name(template: &str, parts: NameParts<'_>) -> String {
    let NameParts {
        site,
        branch,
        commit,
        pr,
        release,
    } = parts;
    let short_commit = commit.map(|c| c.chars().take(7).collect::<String>());
    template
        .replace("{site}", site)
        .replace(
            "{branch}",
            branch.or(short_commit.as_deref()).unwrap_or("archive"),
        )
        .replace("{commit}", short_commit.as_deref().unwrap_or("-"))
        .replace("{pr}", &pr.map(|p| format!("#{p}")).unwrap_or_default())
        .replace("{release}", release.unwrap_or_default())
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_define_every_pipeline_type() {
        let p = Pipelines::load(None).expect("defaults load");
        for t in PipelineType::ALL {
            assert!(!p.get(*t).steps.is_empty(), "{t}");
        }
        let deploy = p.get(PipelineType::Deploy);
        assert!(deploy.steps.iter().any(|s| s.phase == Some(Phase::Build)));
        assert!(deploy.steps.iter().any(|s| s.phase == Some(Phase::Deploy)));
    }

    #[test]
    fn every_compiled_in_step_runs_in_the_sandbox_and_an_operator_may_opt_out() {
        let p = Pipelines::load(None).expect("defaults load");
        for key in PipelineKey::all() {
            assert!(p.by_key(key).steps.iter().all(|s| s.sandbox), "{key}");
        }
        let custom = parse(
            "[pipelines.restart]\noperation_name = \"x\"\n[[pipelines.restart.steps]]\nname = \"ssh\"\nrun = \"ssh host restart\"\nsandbox = false\n",
            "p.toml",
        )
        .expect("parses");
        assert!(!custom[&PipelineKey::Type(PipelineType::Restart)].steps[0].sandbox);
        let err = parse(
            "[pipelines.restart]\noperation_name = \"x\"\n[[pipelines.restart.steps]]\nname = \"a\"\nrun = \"true\"\nsandbox = \"no\"\n",
            "p.toml",
        )
        .expect_err("a word is not a boolean");
        assert!(err.starts_with("p.toml, line 6"), "{err}");
    }

    #[test]
    fn a_file_replaces_only_the_types_it_defines() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[pipelines.restart]\noperation_name = \"Kick {site}\"\n[[pipelines.restart.steps]]\nname = \"Kick\"\nrun = \"true\"\ntimeout_secs = 5\n",
        )
        .expect("write");
        let p = Pipelines::load(Some(&path)).expect("load");
        assert_eq!(p.get(PipelineType::Restart).operation_name, "Kick {site}");
        assert_eq!(
            p.get(PipelineType::Restart).steps[0].timeout,
            Duration::from_secs(5)
        );
        assert_eq!(p.get(PipelineType::Deploy).steps.len(), 3);
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let cases = [
            (
                "[pipelines.launch]\noperation_name = \"x\"\n[[pipelines.launch.steps]]\nname = \"a\"\nrun = \"true\"\n",
                "line 1",
                "unknown pipeline type",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\nsteps = []\n",
                "line 3",
                "has no steps",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\n[[pipelines.stop.steps]]\nname = \"a\"\n",
                "line 4",
                "no `run`",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\n[[pipelines.stop.steps]]\nname = \"a\"\nrun = \"true\"\ntimeout_secs = 0\n",
                "line 6",
                "timeout_secs",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\n[[pipelines.stop.steps]]\nname = \"a\"\nrun = \"true\"\ntimeout_secs = \"soon\"\n",
                "line 6",
                "",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\n[[pipelines.stop.steps]]\nname = \"a\"\nrun = \"true\"\nphase = \"build\"\n",
                "line 6",
                "deploy pipelines only",
            ),
            (
                "[pipelines.deploy]\noperation_name = \"x\"\n[[pipelines.deploy.steps]]\nname = \"a\"\nrun = \"true\"\nphase = \"ship\"\n",
                "line 6",
                "build or deploy",
            ),
            (
                "[pipelines.stop]\noperation_name = \"x\"\n[[pipelines.stop.steps]]\nname = \"a\"\nrun = \"true\"\ncolour = \"red\"\n",
                "line 6",
                "unknown field",
            ),
        ];
        for (text, line, words) in cases {
            let err = parse(text, "p.toml").expect_err(text);
            assert!(err.starts_with(&format!("p.toml, {line}")), "{err}");
            assert!(err.contains(words), "{err}");
        }
    }

    #[test]
    fn operation_names_are_filled_in() {
        let parts = |branch, commit, pr, release| NameParts {
            site: "Web",
            branch,
            commit,
            pr,
            release,
        };
        assert_eq!(
            operation_name("Deploy {branch}", parts(Some("main"), None, None, None)),
            "Deploy main"
        );
        assert_eq!(
            operation_name(
                "Deploy {branch}",
                parts(None, Some("abcdef123456"), None, None)
            ),
            "Deploy abcdef1"
        );
        assert_eq!(
            operation_name("Preview {pr}", parts(None, None, Some(42), None)),
            "Preview #42"
        );
        assert_eq!(
            operation_name(
                "Promote {pr} ({release})",
                parts(None, None, Some(7), Some("01JABCDE"))
            ),
            "Promote #7 (01JABCDE)"
        );
    }

    #[test]
    fn rollback_and_promote_are_defined_and_replaceable_like_any_pipeline() {
        let p = Pipelines::load(None).expect("defaults load");
        for key in [PipelineKey::Rollback, PipelineKey::Promote] {
            let pipeline = p.by_key(key);
            assert_eq!(pipeline.steps.len(), 1, "{key}: one step, no build");
            assert_eq!(pipeline.steps[0].phase, Some(Phase::Deploy), "{key}");
        }
        let custom = Pipelines::with_overrides(
            "[pipelines.rollback]\noperation_name = \"Revert to {release}\"\n[[pipelines.rollback.steps]]\nname = \"kubectl\"\nphase = \"deploy\"\nrun = \"kubectl rollout undo\"\n",
        )
        .expect("parses");
        assert_eq!(
            custom.by_key(PipelineKey::Rollback).steps[0].run,
            "kubectl rollout undo"
        );
    }
}
