//! Login and the user endpoints: save, delete and list.
//!
//! Validation follows the vendor's page and `api-notes.md`: lengths are
//! counted in characters, roles must be sent in upper case, and an email that
//! already exists (ignoring case) is answered 500, as the real dashboard does.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

use super::App;
use super::faults::Rolls;
use super::http::{ApiError, BearerAuth, Query, json_body, json_object};
use super::store::{ADMIN_ID, ADMIN_NAME, AppliedFault, StoredUser, lock};

/// The longest `name`, `surname`, `email` and `password`, in characters.
pub const MAX_FIELD_CHARS: usize = 256;

/// The shortest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 6;

/// The roles the sandbox accepts, exactly as spelled here.
pub const ROLES: [&str; 4] = ["EMPLOYEE", "MANAGER", "RESTRICTED_ADMIN", "ADMIN"];

/// The `state` every listed user has; the page's list of states was lost, so
/// this value is an assumption.
pub const USER_STATE: &str = "OFFLINE";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login: String,
    password: String,
}

/// `POST /login/api/auth`: the token comes back as the `jwt` cookie only.
pub async fn login(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    // The body holds a password: never echo a parse error that may quote it.
    let Ok(credentials) = json_body::<LoginBody>(&headers, &body) else {
        return ApiError::bad_request("expected {\"login\",\"password\"}").into_response();
    };
    let login_ok = credentials.login.eq_ignore_ascii_case(&app.admin_email);
    if !login_ok || credentials.password != app.admin_password.expose() {
        return ApiError::new(StatusCode::UNAUTHORIZED, "wrong login or password").into_response();
    }

    let token = app.store.issue_token();
    let cookie = format!("jwt={}; Path=/; HttpOnly", token.expose());
    let mut response = Json(serde_json::json!({ "success": true })).into_response();
    // Tokens are base64url and dots, always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The save payload, field names as on the wire.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SaveBody {
    uses_softphone: bool,
    name: String,
    surname: String,
    email: String,
    password: String,
    role: String,
    groups: Vec<i64>,
    manage_groups: Option<Vec<i64>>,
    config: String,
}

/// `POST /api/settings/users/save`: answers the new ID as a bare integer.
pub async fn save(
    State(app): State<App>,
    _auth: BearerAuth,
    Extension(rolls): Extension<Rolls>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if rolls.save_error {
        let status = StatusCode::from_u16(app.faults.settings.save_error_status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let response = ApiError::new(status, "injected save error").into_response();
        return with_fault(response, AppliedFault::SaveError);
    }

    let response = match store_user(&app, &headers, &body).await {
        Ok(id) => id.to_string().into_response(),
        Err(err) => err.into_response(),
    };
    if rolls.save_drop {
        return with_fault(response, AppliedFault::SaveDrop);
    }
    response
}

/// Marks `response` with a fault for the gate to record (and, for
/// [`AppliedFault::SaveDrop`], to act on).
fn with_fault(mut response: Response, fault: AppliedFault) -> Response {
    response.extensions_mut().insert(fault);
    response
}

async fn store_user(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<u64, ApiError> {
    let payload: SaveBody = json_object(headers, body, "the user's fields")?;
    let mut user = validate(payload)?;

    let id = {
        let mut table = lock(&app.store.users);
        let taken =
            user.email.eq_ignore_ascii_case(&app.admin_email) || table.has_email(&user.email);
        if taken {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "user with this email already exists",
            ));
        }
        user.id = table.next_id;
        table.next_id += 1;
        table.insert(user);
        table.next_id - 1
    };
    app.persist().await;
    Ok(id)
}

fn validate(body: SaveBody) -> Result<StoredUser, ApiError> {
    check_text("name", &body.name, 1)?;
    check_text("surname", &body.surname, 1)?;
    check_text("password", &body.password, MIN_PASSWORD_CHARS)?;
    check_email(&body.email)?;
    if !ROLES.contains(&body.role.as_str()) {
        return Err(ApiError::bad_request(format!(
            "invalid role: expected one of {}",
            ROLES.join(", ")
        )));
    }
    if body.groups.is_empty() {
        return Err(ApiError::bad_request("groups must not be empty"));
    }
    let groups = team_ids("groups", &body.groups)?;
    let manage_groups = match &body.manage_groups {
        Some(ids) => Some(team_ids("manageGroups", ids)?),
        None => None,
    };
    Ok(StoredUser {
        id: 0,
        uses_softphone: body.uses_softphone,
        name: body.name,
        surname: body.surname,
        email: body.email,
        password: Secret::new(body.password),
        role: body.role,
        groups,
        manage_groups,
        config: body.config,
    })
}

/// Checks a length in characters; blank text counts as empty.
fn check_text(field: &str, value: &str, min_chars: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field} must not be empty")));
    }
    let chars = value.chars().count();
    if chars < min_chars || chars > MAX_FIELD_CHARS {
        return Err(ApiError::bad_request(format!(
            "{field} must be {min_chars} to {MAX_FIELD_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

/// A loose shape check: one `@`, something before it, a dotted domain after
/// it, no whitespace.
fn check_email(email: &str) -> Result<(), ApiError> {
    let well_formed = email.chars().count() <= MAX_FIELD_CHARS
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::bad_request("invalid email"))
    }
}

fn team_ids(field: &str, ids: &[i64]) -> Result<Vec<u64>, ApiError> {
    positive_ids(ids, || {
        format!("{field}: team IDs must be positive integers")
    })
}

fn positive_ids(ids: &[i64], message: impl Fn() -> String) -> Result<Vec<u64>, ApiError> {
    ids.iter()
        .map(|&id| {
            u64::try_from(id)
                .ok()
                .filter(|&id| id > 0)
                .ok_or_else(|| ApiError::bad_request(message()))
        })
        .collect()
}

/// `POST /api/settings/users/delete`: body `[ID, ...]`. Unknown IDs are
/// ignored (and kept for [`super::Sandbox::ignored_deletes`]); deleting the
/// administrator is refused and deletes nothing.
pub async fn delete(
    State(app): State<App>,
    _auth: BearerAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let ids: Vec<i64> = json_body(&headers, &body)?;
    let ids = positive_ids(&ids, || "user IDs must be positive integers".to_string())?;
    if ids.contains(&ADMIN_ID) {
        return Err(ApiError::bad_request("the administrator cannot be deleted"));
    }

    let requested = ids.len();
    let ignored: Vec<u64> = {
        let mut table = lock(&app.store.users);
        ids.into_iter().filter(|id| !table.remove(*id)).collect()
    };
    if ignored.len() < requested {
        app.persist().await;
    }
    if !ignored.is_empty() {
        tracing::debug!(?ignored, "delete ignored unknown user IDs");
        lock(&app.store.ignored_deletes).extend(ignored);
    }
    Ok(StatusCode::OK)
}

/// One user as the list endpoint shows it.
#[derive(Serialize)]
struct ListedUser {
    id: u64,
    name: String,
    surname: String,
    email: String,
    state: &'static str,
    role: String,
    groups: Vec<String>,
    sfversion: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserList {
    total_count: usize,
    users: Vec<ListedUser>,
}

/// The list endpoint's query parameters.
const LIST_PARAMS: [&str; 5] = [
    "sortColumn",
    "sortDirection",
    "pageSize",
    "pageNumber",
    "allUsers",
];

/// The columns the list can be sorted by.
const SORT_COLUMNS: [&str; 6] = ["id", "name", "surname", "email", "role", "state"];

/// `GET /api/settings/users`: sorted (default by id, descending), paged
/// (default 20 per page, page 1), or everything with `allUsers=true`.
pub async fn list(
    State(app): State<App>,
    _auth: BearerAuth,
    RawQuery(raw): RawQuery,
) -> Result<Json<UserList>, ApiError> {
    let query = Query::parse(raw.as_deref(), &LIST_PARAMS)?;
    let column = query.choice("sortColumn", &SORT_COLUMNS, "id")?;
    let descending = query.choice("sortDirection", &["asc", "desc"], "desc")? == "desc";
    let all_users = query.choice("allUsers", &["true", "false"], "false")? == "true";
    let page_size = positive(&query, "pageSize", 20)?;
    let page_number = positive(&query, "pageNumber", 1)?;

    let mut users = listed_users(&app);
    users.sort_by(|a, b| {
        sort_key(a, column)
            .cmp(&sort_key(b, column))
            .then(a.id.cmp(&b.id))
    });
    if descending {
        users.reverse();
    }
    let total_count = users.len();
    if !all_users {
        let skip = (page_number - 1).saturating_mul(page_size);
        users = users.into_iter().skip(skip).take(page_size).collect();
    }
    Ok(Json(UserList { total_count, users }))
}

fn positive(query: &Query, name: &str, default: usize) -> Result<usize, ApiError> {
    match query.get(name) {
        None => Ok(default),
        Some(value) => value
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| ApiError::bad_request(format!("`{name}` must be a positive integer"))),
    }
}

/// The administrator followed by every created user.
fn listed_users(app: &App) -> Vec<ListedUser> {
    let admin = ListedUser {
        id: ADMIN_ID,
        name: ADMIN_NAME.0.to_string(),
        surname: ADMIN_NAME.1.to_string(),
        email: app.admin_email.clone(),
        state: USER_STATE,
        role: "ADMIN".to_string(),
        groups: vec![team_name(1)],
        sfversion: "",
    };
    let table = lock(&app.store.users);
    let created = table.users.values().map(|user| ListedUser {
        id: user.id,
        name: user.name.clone(),
        surname: user.surname.clone(),
        email: user.email.clone(),
        state: USER_STATE,
        role: user.role.clone(),
        groups: user.groups.iter().map(|&id| team_name(id)).collect(),
        sfversion: "",
    });
    std::iter::once(admin).chain(created).collect()
}

/// The dashboard lists team names, not IDs; the sandbox names team N "Team N".
fn team_name(id: u64) -> String {
    format!("Team {id}")
}

/// Text columns sort ignoring case; `id` sorts numerically.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Number(u64),
    Text(String),
}

fn sort_key(user: &ListedUser, column: &str) -> SortKey {
    let text = match column {
        "name" => &user.name,
        "surname" => &user.surname,
        "email" => &user.email,
        "role" => &user.role,
        "state" => user.state,
        _ => return SortKey::Number(user.id),
    };
    SortKey::Text(text.to_lowercase())
}
