//! Raw logs as plain text: `GET /deployments/<id>/steps/<step id>/log` is
//! one step's whole stored output, byte for byte, and
//! `GET /deployments/<id>/log` every step's, one after another under a
//! header line each. `?download` makes either a `.txt` file to save.

use super::bearer::{self, Token};
use crate::model::{Actor, DeploymentId, StepId};
use crate::server::store::{Db, deployments};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct LogQuery {
    download: Option<String>,
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Log not found.\n").into_response()
}

/// The signed-in actor, or the answer to give instead.
async fn reader(db: &Db, session: &Session, token: &Token) -> Result<Actor, Response> {
    match bearer::actor_of(db, session, token).await {
        Ok(Some(actor)) => Ok(actor),
        Ok(None) => Err(Redirect::to("/signin").into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// Plain text, shown in the browser or, with `?download`, saved as `file`.
fn text(body: String, file: String, query: &LogQuery) -> Response {
    let disposition = if query.download.is_some() {
        "attachment"
    } else {
        "inline"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A step name as part of a file name: letters, digits and dashes.
fn file_part(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(40).collect()
}

/// One step's whole output. Scoped to the session's team: another team's
/// ids answer 404 like ids that do not exist.
pub async fn step_log(
    State(db): State<Db>,
    session: Session,
    token: Token,
    Path((deployment_id, step_id)): Path<(String, String)>,
    Query(query): Query<LogQuery>,
) -> Response {
    let actor = match reader(&db, &session, &token).await {
        Ok(actor) => actor,
        Err(answer) => return answer,
    };
    let (Ok(deployment_id), Ok(step_id)) = (
        deployment_id.parse::<DeploymentId>(),
        step_id.parse::<StepId>(),
    ) else {
        return not_found();
    };
    match deployments::step_output(&db, actor.team_id, deployment_id, step_id).await {
        Ok(Some(step)) => {
            let file = format!(
                "{}-step-{}-{}.txt",
                deployment_id.short(),
                step.sort_order,
                file_part(&step.name)
            );
            text(step.log.output, file, &query)
        }
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

/// Every step's output in order, each under a line naming it.
pub async fn deployment_log(
    State(db): State<Db>,
    session: Session,
    token: Token,
    Path(deployment_id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Response {
    let actor = match reader(&db, &session, &token).await {
        Ok(actor) => actor,
        Err(answer) => return answer,
    };
    let Ok(deployment_id) = deployment_id.parse::<DeploymentId>() else {
        return not_found();
    };
    let d = match deployments::get(&db, actor.team_id, deployment_id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => return e.into_response(),
    };
    let mut body = String::new();
    for step in &d.steps {
        body.push_str(&format!(
            "===== Step {} · {} · {} =====\n",
            step.sort_order, step.name, step.status
        ));
        body.push_str(&step.output);
        if !step.output.is_empty() && !step.output.ends_with('\n') {
            body.push('\n');
        }
    }
    text(body, format!("{}-log.txt", deployment_id.short()), &query)
}

#[cfg(test)]
mod tests {
    use super::file_part;

    #[test]
    fn file_names_hold_only_plain_characters() {
        assert_eq!(file_part("Build & test"), "build-test");
        assert_eq!(file_part("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_part("\"; rm -rf /"), "rm-rf");
        assert_eq!(file_part("Ünïcode"), "n-code");
    }
}
