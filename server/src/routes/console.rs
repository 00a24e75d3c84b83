//! `GET /console`: the web console, static files built into the binary.
//!
//! The console is plain HTML, CSS and JavaScript (no build step) that calls
//! the same REST API as any client, with the API key the user types (kept in
//! the browser tab's `sessionStorage` only). The files themselves hold no
//! data, so they are served without a key.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The console's files: name, content type, bytes.
const FILES: [(&str, &str, &[u8]); 3] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../console/index.html"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console/console.css"),
    ),
];

/// The console's page.
pub async fn index(State(state): State<AppState>) -> Response {
    file(&state, "index.html").await
}

/// One of the console's files.
pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    file(&state, &name).await
}

async fn file(state: &AppState, name: &str) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, built_in)) => {
            let bytes = match &state.config().http.console_dir {
                Some(dir) => match tokio::fs::read(dir.join(name)).await {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        return ApiError::Internal(format!(
                            "--console-dir {}: {name}: {error}",
                            dir.display()
                        ))
                        .into_response();
                    }
                },
                None => built_in.to_vec(),
            };
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                ),
            );
            response
        }
        None => ApiError::RouteNotFound {
            method: "GET".into(),
            path: format!("/console/{name}"),
        }
        .into_response(),
    }
}
