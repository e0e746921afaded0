//! The state file across restarts.

use super::{at, payload, save_text};
use crate::sandbox::{SandboxOptions, start};

/// Users and the next ID survive a restart with the same file.
#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = || SandboxOptions {
        state_file: Some(dir.path().join("state.json")),
        ..SandboxOptions::default()
    };

    let first = start(options()).await.unwrap();
    assert_eq!(save_text(&first, &payload("a@example.com")).await.1, "2");
    assert_eq!(save_text(&first, &payload("b@example.com")).await.1, "3");
    let before = first.users();
    first.shutdown().await;

    let second = start(options()).await.unwrap();
    assert_eq!(second.users(), before);
    assert_eq!(save_text(&second, &payload("c@example.com")).await.1, "4");
    assert_eq!(save_text(&second, &payload("a@example.com")).await.0, 500);
    let deleted = reqwest::Client::new()
        .post(at(&second, "/api/settings/users/delete"))
        .bearer_auth(second.admin_token().expose())
        .json(&serde_json::json!([3]))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    // Written after each change, not only on shutdown.
    drop(second);
    let third = start(options()).await.unwrap();
    let ids: Vec<u64> = third.users().iter().map(|user| user.id).collect();
    assert_eq!(ids, [2, 4]);
    assert_eq!(save_text(&third, &payload("d@example.com")).await.1, "5");
}

/// A state file that is not ours is an error at start, not an empty sandbox.
#[tokio::test]
async fn a_corrupt_state_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{\"users\": 3}").unwrap();
    let options = SandboxOptions {
        state_file: Some(path),
        ..SandboxOptions::default()
    };
    let err = start(options).await.expect_err("refused");
    assert!(err.to_string().starts_with("state file "), "{err}");
}
