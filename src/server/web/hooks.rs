//! `POST /hooks/github/<site id>`: reads a delivery within its limit and
//! hands it to `github::deliver`.

use crate::model::AppError;
use crate::server::engine::Engine;
use crate::server::github::{self, MAX_BODY_BYTES};
use crate::server::store::{Db, sites};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn github_delivery(
    State(db): State<Db>,
    State(engine): State<Engine>,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&db, &engine, &site_id, &headers, body).await {
        Ok(delivery) => {
            let status = if delivery.accepted {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(delivery)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn receive(
    db: &Db,
    engine: &Engine,
    site_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<github::Delivery, AppError> {
    let site_id = super::context::id(site_id, "Site")?;
    let site = sites::hook_target(db, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::too_large("The payload is larger than 5 MB and was not read."))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let incoming = github::Incoming {
        event: header("x-github-event").unwrap_or(""),
        delivery: header("x-github-delivery"),
        signature: header("x-hub-signature-256"),
        body: &body,
    };
    github::deliver(db, engine, &site, incoming).await
}
