//! `GET /deployments/<id>/steps/<step id>/log`: a step's whole output as
//! plain text, for logs longer than a page shows.

use super::bearer::{self, Token};
use crate::server::store::{Db, deployments};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Scoped to the session's team: another team's ids answer 404 like ids
/// that do not exist.
pub async fn step_log(
    State(db): State<Db>,
    session: Session,
    token: Token,
    Path((deployment_id, step_id)): Path<(String, String)>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Log not found.\n").into_response();
    let actor = match bearer::actor_of(&db, &session, &token).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return Redirect::to("/signin").into_response(),
        Err(e) => return e.into_response(),
    };
    let (Ok(deployment_id), Ok(step_id)) = (deployment_id.parse(), step_id.parse()) else {
        return not_found();
    };
    match deployments::step_output(&db, actor.team_id, deployment_id, step_id).await {
        Ok(Some((_, output))) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{step_id}.log\""),
                ),
            ],
            output,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}
