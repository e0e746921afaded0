//! Each fault switch, proven over HTTP.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{at, get_bearer, payload, sandbox_with, save_text};
use crate::sandbox::{AppliedFault, Faults, RateLimit, SandboxOptions, start};

/// A bound on waiting for the server in a test that expects an event; far
/// longer than any of these events take, so it only trips on a real hang.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Every request is answered only after the latency.
#[tokio::test]
async fn latency_delays_every_answer() {
    let latency = Duration::from_millis(250);
    let sandbox = sandbox_with(Faults {
        latency,
        ..Faults::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(
        get_bearer(&sandbox, "/api/settings/users").await.status(),
        200
    );
    assert!(started.elapsed() >= latency);
    assert_eq!(sandbox.requests()[0].faults, [AppliedFault::Latency]);
}

/// With rate 1.0 every save gets the configured status and nothing is stored.
#[tokio::test]
async fn save_error_stores_nothing() {
    let faults = Faults {
        save_error_rate: 1.0,
        save_error_status: 502,
        ..Faults::default()
    };
    let sandbox = sandbox_with(faults).await;
    let (status, _) = save_text(&sandbox, &payload("a@example.com")).await;
    assert_eq!(status, 502);
    assert!(sandbox.users().is_empty());
    let recorded = &sandbox.requests()[0];
    assert_eq!(
        (recorded.status, recorded.faults.as_slice()),
        (Some(502), &[AppliedFault::SaveError][..])
    );
    // Other endpoints are not affected.
    assert_eq!(
        get_bearer(&sandbox, "/api/settings/users").await.status(),
        200
    );
}

/// A fractional rate is repeatable: the same seed gives the same answers.
#[tokio::test]
async fn save_errors_follow_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let faults = Faults {
            save_error_rate: 0.5,
            ..Faults::default()
        };
        let sandbox = start(SandboxOptions {
            faults,
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let mut statuses = Vec::new();
        for n in 0..24 {
            statuses.push(
                save_text(&sandbox, &payload(&format!("u{n}@example.com")))
                    .await
                    .0,
            );
        }
        statuses
    }
    let first = statuses(7).await;
    assert_eq!(first, statuses(7).await);
    assert!(first.contains(&200) && first.contains(&503), "{first:?}");
}

/// With drop rate 1.0 the client gets a connection error, no answer, and
/// the user is stored anyway.
#[tokio::test]
async fn save_drop_stores_then_drops_the_connection() {
    let sandbox = sandbox_with(Faults {
        save_drop_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let result = reqwest::Client::new()
        .post(at(&sandbox, "/api/settings/users/save"))
        .bearer_auth(sandbox.admin_token().expose())
        .json(&payload("a@example.com"))
        .send()
        .await;
    let err = result.expect_err("no answer is sent");
    // hyper's "connection closed before message completed": a request
    // error with no status, not a timeout.
    assert!(
        err.is_request() && err.status().is_none() && !err.is_timeout(),
        "{err:?}"
    );
    assert_eq!(sandbox.users().len(), 1);
    let recorded = &sandbox.requests()[0];
    assert_eq!(
        (recorded.status, recorded.faults.as_slice()),
        (None, &[AppliedFault::SaveDrop][..])
    );
}

/// A hung save makes a short client timeout expire; the save is processed
/// after the hang anyway, and the user appears late.
#[tokio::test]
async fn hang_times_out_the_client_and_stores_late() {
    let faults = Faults {
        hang_rate: 1.0,
        hang_for: Duration::from_millis(800),
        ..Faults::default()
    };
    let sandbox = sandbox_with(faults).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .post(at(&sandbox, "/api/settings/users/save"))
        .bearer_auth(sandbox.admin_token().expose())
        .json(&payload("late@example.com"))
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(err.is_timeout(), "{err:?}");

    tokio::time::timeout(EVENT_TIMEOUT, sandbox.wait_for_requests(1))
        .await
        .unwrap();
    assert_eq!(sandbox.users()[0].email, "late@example.com");
    let recorded = &sandbox.requests()[0];
    assert_eq!(
        (recorded.status, recorded.faults.as_slice()),
        (Some(200), &[AppliedFault::Hang][..])
    );
}

/// Login is never hung.
#[tokio::test]
async fn login_does_not_hang() {
    let faults = Faults {
        hang_rate: 1.0,
        hang_for: Duration::from_secs(600),
        ..Faults::default()
    };
    let sandbox = sandbox_with(faults).await;
    let response = reqwest::Client::new()
        .post(at(&sandbox, "/login/api/auth"))
        .json(&json!({"login": "admin@sandbox.test", "password": "sandbox-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(sandbox.requests()[0].faults.is_empty());
    // Shutdown cuts the remaining hangs short instead of waiting 600 s.
    sandbox.shutdown().await;
}

/// Beyond the budget of a one-second window: 429 with Retry-After.
#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let rate_limit = Some(RateLimit {
        per_second: 2,
        retry_after_secs: 7,
    });
    let sandbox = sandbox_with(Faults {
        rate_limit,
        ..Faults::default()
    })
    .await;
    let mut limited = None;
    for _ in 0..8 {
        let response = get_bearer(&sandbox, "/api/settings/users").await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("some request is over the limit");
    assert_eq!(limited.headers()["retry-after"], "7");
    let recorded = sandbox.requests();
    assert!(
        recorded
            .iter()
            .any(|r| r.status == Some(429) && r.faults == [AppliedFault::RateLimited])
    );
}

/// Options out of range are refused at start.
#[tokio::test]
async fn invalid_fault_options_are_refused() {
    for faults in [
        Faults {
            hang_rate: 1.5,
            ..Faults::default()
        },
        Faults {
            save_error_status: 200,
            ..Faults::default()
        },
        Faults {
            rate_limit: Some(RateLimit {
                per_second: 0,
                retry_after_secs: 1,
            }),
            ..Faults::default()
        },
    ] {
        let options = SandboxOptions {
            faults,
            ..SandboxOptions::default()
        };
        assert!(start(options).await.is_err());
    }
}
