//! The pieces every handler shares: short text errors, the two ways to
//! authenticate, strict query parsing and strict JSON bodies.
//!
//! The sandbox is a witness for the client, so it is stricter than the real
//! dashboard is known to be: unknown or repeated query parameters, unknown
//! JSON fields and a missing `Content-Type: application/json` are refused.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::App;

/// An error answer: a status and a one-line plain-text message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// An answer with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, self.message).into_response()
    }
}

/// The token from `Authorization: Bearer TOKEN`, if that header is there.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of the `jwt` cookie, if one was sent.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == "jwt")
        .map(|cookie| cookie.value().to_string())
}

/// Proof that the request carried a valid `Authorization: Bearer` token:
/// the user and Asterisk endpoints accept nothing else.
#[derive(Debug)]
pub struct BearerAuth;

/// Proof that the request carried a valid token either as a Bearer header or
/// as the `jwt` cookie: the report endpoints accept both.
#[derive(Debug)]
pub struct AnyAuth;

impl FromRequestParts<App> for BearerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers) {
            None => Err(unauthorized("missing bearer token")),
            Some(token) if app.store.token_is_valid(token) => Ok(BearerAuth),
            Some(_) => Err(unauthorized("invalid or expired token")),
        }
    }
}

impl FromRequestParts<App> for AnyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let bearer = bearer_token(&parts.headers).map(str::to_string);
        let cookie = cookie_token(&parts.headers);
        if bearer.is_none() && cookie.is_none() {
            return Err(unauthorized("missing token"));
        }
        let valid = [bearer, cookie]
            .into_iter()
            .flatten()
            .any(|token| app.store.token_is_valid(&token));
        if valid {
            Ok(AnyAuth)
        } else {
            Err(unauthorized("invalid or expired token"))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// Query parameters, decoded, each name at most once.
#[derive(Debug)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses `raw` (the part after `?`), refusing names outside `allowed`,
    /// repeated names and empty values.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Query, ApiError> {
        let mut params = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if !allowed.contains(&name.as_ref()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{name}`"
                )));
            }
            if value.is_empty() {
                return Err(ApiError::bad_request(format!("empty value for `{name}`")));
            }
            if params
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(ApiError::bad_request(format!(
                    "repeated parameter `{name}`"
                )));
            }
        }
        Ok(Query(params))
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or a 400 naming it.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_request(format!("missing parameter `{name}`")))
    }

    /// The value of `name` if it is one of `choices`, else `default`.
    pub fn choice<'a>(
        &'a self,
        name: &str,
        choices: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) if choices.contains(&value) => Ok(value),
            Some(value) => Err(ApiError::bad_request(format!(
                "invalid `{name}` {value:?}: expected one of {}",
                choices.join(", ")
            ))),
        }
    }
}

/// [`json_body`] for a body that must be a JSON object: serde would also
/// take an array for a struct, field by field, and answer with a puzzling
/// message about its first element.
pub fn json_object<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    let value: serde_json::Value = json_body(headers, body)?;
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid JSON body: expected an object with {what}"),
        ));
    }
    serde_json::from_value(value).map_err(|err| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid JSON body: {err}"),
        )
    })
}

/// Parses a JSON body strictly: it must be declared as JSON, be well-formed
/// (400 otherwise) and have the expected shape and types (422 otherwise).
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|err| {
        let status = match err.classify() {
            serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, format!("invalid JSON body: {err}"))
    })
}
