//! Tests of the sandbox over real HTTP on loopback, with reqwest.
//!
//! Each test starts its own sandbox on a free port. Nothing waits by
//! sleeping: a test that must wait for the server waits for a recorded
//! request ([`Sandbox::wait_for_requests`]).

mod api;
mod asterisk;
mod faults;
mod reports;
mod state;

use serde_json::{Value, json};

use super::{Faults, Sandbox, SandboxOptions, start};

/// A sandbox with default options and no faults.
async fn sandbox() -> Sandbox {
    start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

/// A sandbox with `faults` and seed 42.
async fn sandbox_with(faults: Faults) -> Sandbox {
    let options = SandboxOptions {
        faults,
        seed: 42,
        ..SandboxOptions::default()
    };
    start(options).await.expect("sandbox starts")
}

/// A save payload exactly like the vendor's example, with `email`.
fn payload(email: &str) -> Value {
    json!({
        "usesSoftphone": true,
        "name": "John",
        "surname": "Doe",
        "email": email,
        "password": "123456",
        "role": "EMPLOYEE",
        "groups": [1, 2],
        "config": "{% include \"_Restrictions\" %}\n{% include \"Default\" %}",
    })
}

/// `url` joined with `path` on the sandbox.
fn at(sandbox: &Sandbox, path: &str) -> String {
    sandbox.url().join(path).expect("a valid path").to_string()
}

/// Posts `body` to the save endpoint with the admin token.
async fn save(sandbox: &Sandbox, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(at(sandbox, "/api/settings/users/save"))
        .bearer_auth(sandbox.admin_token().expose())
        .json(body)
        .send()
        .await
        .expect("the save is answered")
}

/// Saves `body` and returns the status and the body text.
async fn save_text(sandbox: &Sandbox, body: &Value) -> (u16, String) {
    let response = save(sandbox, body).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("a text body"))
}

/// Gets `path` (with its query) with the admin token as a Bearer header.
async fn get_bearer(sandbox: &Sandbox, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(at(sandbox, path))
        .bearer_auth(sandbox.admin_token().expose())
        .send()
        .await
        .expect("the request is answered")
}
