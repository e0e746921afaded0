//! Login, the user endpoints, auth and malformed requests.

use serde_json::{Value, json};

use super::{at, get_bearer, payload, sandbox, save, save_text};
use crate::sandbox::{JSON_BODY_LIMIT, RecordedRequest};

/// Logging in sets the `jwt` cookie, and that token works as a Bearer token;
/// a wrong password is 401 and the login body is never recorded.
#[tokio::test]
async fn login_sets_the_jwt_cookie() {
    let sandbox = sandbox().await;
    let client = reqwest::Client::new();
    let response = client
        .post(at(&sandbox, "/login/api/auth"))
        .json(&json!({"login": "admin@sandbox.test", "password": "sandbox-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let cookie = cookie::Cookie::parse(set_cookie).unwrap();
    assert_eq!(cookie.name(), "jwt");
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.http_only(), Some(true));

    let list = client
        .get(at(&sandbox, "/api/settings/users"))
        .bearer_auth(cookie.value())
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);

    let wrong = client
        .post(at(&sandbox, "/login/api/auth"))
        .json(&json!({"login": "admin@sandbox.test", "password": "nope!!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let recorded = format!("{:?}", sandbox.requests());
    assert!(!recorded.contains("sandbox-admin") && !recorded.contains("nope!!"));
}

/// A user can be created, is listed with team names, and can be deleted.
#[tokio::test]
async fn create_list_delete() {
    let sandbox = sandbox().await;
    assert_eq!(
        save_text(&sandbox, &payload("a@example.com")).await,
        (200, "2".into())
    );
    assert_eq!(
        save_text(&sandbox, &payload("b@example.com")).await,
        (200, "3".into())
    );

    let stored = sandbox.users();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].id, 2);
    assert_eq!(stored[0].password.expose(), "123456");
    assert_eq!(stored[0].groups, [1, 2]);
    assert_eq!(stored[0].manage_groups, None);
    assert!(stored[0].config.contains("\n{% include \"Default\" %}"));

    let list: Value = get_bearer(&sandbox, "/api/settings/users?allUsers=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["totalCount"], 3);
    let first = &list["users"][0];
    assert_eq!(first["id"], 3, "default order is id descending");
    assert_eq!(first["groups"], json!(["Team 1", "Team 2"]));
    assert_eq!(first["sfversion"], "");
    assert_eq!(list["users"][2]["id"], 1, "the admin is listed");

    let deleted = reqwest::Client::new()
        .post(at(&sandbox, "/api/settings/users/delete"))
        .bearer_auth(sandbox.admin_token().expose())
        .json(&json!([2, 99]))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        sandbox.users().iter().map(|u| u.id).collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(sandbox.ignored_deletes(), [99]);
    // IDs are never reused.
    assert_eq!(save_text(&sandbox, &payload("c@example.com")).await.1, "4");
}

/// Missing, wrong and revoked tokens are 401; the user endpoints do not take
/// the cookie.
#[tokio::test]
async fn wrong_tokens_are_401() {
    let sandbox = sandbox().await;
    let client = reqwest::Client::new();
    let url = at(&sandbox, "/api/settings/users");
    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = client.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let token = sandbox.admin_token();
    let cookie_only = client
        .get(&url)
        .header("cookie", format!("jwt={}", token.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie_only.status(), 401);

    assert_eq!(
        get_bearer(&sandbox, "/api/settings/users").await.status(),
        200
    );
    sandbox.revoke_tokens();
    assert_eq!(
        get_bearer(&sandbox, "/api/settings/users").await.status(),
        401
    );
    assert_eq!(
        save(&sandbox, &payload("a@example.com")).await.status(),
        401
    );
    assert!(sandbox.users().is_empty());
}

/// An email that exists, in any letter case, is answered 500.
#[tokio::test]
async fn duplicate_email_is_500() {
    let sandbox = sandbox().await;
    assert_eq!(
        save(&sandbox, &payload("Agent@Example.com")).await.status(),
        200
    );
    let (status, text) = save_text(&sandbox, &payload("agent@example.COM")).await;
    assert_eq!(status, 500);
    assert!(text.contains("already exists"), "{text}");
    assert_eq!(
        save(&sandbox, &payload("ADMIN@sandbox.test"))
            .await
            .status(),
        500
    );
    assert_eq!(sandbox.users().len(), 1);
}

/// Lengths count characters: 256 Cyrillic letters pass, 257 fail.
#[tokio::test]
async fn lengths_are_in_characters() {
    let sandbox = sandbox().await;
    for field in ["name", "surname", "password"] {
        let mut ok = payload(&format!("{field}@example.com"));
        ok[field] = json!("Ж".repeat(256));
        assert_eq!(save(&sandbox, &ok).await.status(), 200, "{field} 256");
        let mut long = payload(&format!("{field}-long@example.com"));
        long[field] = json!("Ж".repeat(257));
        assert_eq!(save(&sandbox, &long).await.status(), 400, "{field} 257");
    }
    assert_eq!(sandbox.users().len(), 3);
}

/// Each documented rule is enforced with a 400, or 422 for wrong types.
#[tokio::test]
async fn invalid_payloads_are_refused() {
    let sandbox = sandbox().await;
    let cases: [(&str, Value, u16); 14] = [
        ("name", json!(""), 400),
        ("surname", json!("   "), 400),
        ("password", json!("12345"), 400),
        ("email", json!("no-at-sign"), 400),
        ("email", json!("a@nodot"), 400),
        ("email", json!("a b@example.com"), 400),
        ("role", json!("employee"), 400),
        ("role", json!("AGENT"), 400),
        ("groups", json!([]), 400),
        ("groups", json!([0]), 400),
        ("groups", json!(["1"]), 422),
        ("usesSoftphone", json!("true"), 422),
        ("manageGroups", json!([-1]), 400),
        ("managegroups", json!([1]), 422),
    ];
    for (field, value, expected) in cases {
        let mut body = payload("x@example.com");
        body[field] = value.clone();
        let (status, text) = save_text(&sandbox, &body).await;
        assert_eq!(status, expected, "{field} = {value}: {text}");
        assert!(text.len() < 200, "short message: {text}");
    }
    let mut missing = payload("x@example.com");
    missing.as_object_mut().unwrap().remove("config");
    assert_eq!(save(&sandbox, &missing).await.status(), 422);
    assert!(sandbox.users().is_empty());

    let mut manager = payload("m@example.com");
    manager["role"] = json!("MANAGER");
    manager["manageGroups"] = json!([2, 4]);
    assert_eq!(save(&sandbox, &manager).await.status(), 200);
    assert_eq!(sandbox.users()[0].manage_groups, Some(vec![2, 4]));
}

/// Sorting by each column, both directions, paging and its defaults.
#[tokio::test]
async fn list_sorts_and_pages() {
    let sandbox = sandbox().await;
    for (name, email) in [
        ("carol", "c@x.org"),
        ("Alice", "z@x.org"),
        ("bob", "b@x.org"),
    ] {
        let mut body = payload(email);
        body["name"] = json!(name);
        assert_eq!(save(&sandbox, &body).await.status(), 200);
    }
    let ids = |list: &Value| -> Vec<u64> {
        list["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_u64().unwrap())
            .collect()
    };
    let get = |query: &'static str| {
        let sandbox = &sandbox;
        async move {
            let response = get_bearer(sandbox, &format!("/api/settings/users?{query}")).await;
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let (_, list) = get("sortColumn=name&sortDirection=asc").await;
    // "Sandbox" is the admin's name; case is ignored.
    assert_eq!(ids(&list), [3, 4, 2, 1]);
    let (_, list) = get("sortColumn=email&sortDirection=desc").await;
    assert_eq!(ids(&list), [3, 2, 4, 1]);
    let (_, list) = get("sortColumn=id&sortDirection=asc&pageSize=2&pageNumber=2").await;
    assert_eq!(
        (list["totalCount"].as_u64(), ids(&list)),
        (Some(4), vec![3, 4])
    );
    let (_, list) = get("pageSize=3&pageNumber=2").await;
    assert_eq!(ids(&list), [1]);
    let (_, list) = get("pageSize=1&allUsers=true").await;
    assert_eq!(ids(&list).len(), 4);
    let (_, list) = get("pageNumber=9").await;
    assert_eq!(ids(&list), Vec::<u64>::new());

    for bad in [
        "sortColumn=phone",
        "sortDirection=up",
        "pageSize=0",
        "pageNumber=x",
        "allUsers=yes",
        "sortcolumn=id",
        "pageSize=2&pageSize=3",
    ] {
        assert_eq!(get(bad).await.0, 400, "{bad}");
    }
}

/// Malformed JSON, a wrong content type, a body over the limit, an unknown
/// path and a wrong method: each a 4xx, never a panic.
#[tokio::test]
async fn malformed_requests_are_4xx() {
    let sandbox = sandbox().await;
    let client = reqwest::Client::new();
    let token = sandbox.admin_token();
    let post = |path: &str| client.post(at(&sandbox, path)).bearer_auth(token.expose());
    let json = ("content-type", "application/json");

    let broken = post("/api/settings/users/save")
        .header(json.0, json.1)
        .body("{\"name\":");
    assert_eq!(broken.send().await.unwrap().status(), 400);
    let not_json = post("/api/settings/users/save").body(payload("a@b.cd").to_string());
    assert_eq!(not_json.send().await.unwrap().status(), 415);
    let object = post("/api/settings/users/delete")
        .header(json.0, json.1)
        .body("{\"id\":2}");
    assert_eq!(object.send().await.unwrap().status(), 422);
    let huge = post("/api/settings/users/save")
        .header(json.0, json.1)
        .body(vec![b' '; JSON_BODY_LIMIT + 1]);
    assert_eq!(huge.send().await.unwrap().status(), 413);
    let login = client
        .post(at(&sandbox, "/login/api/auth"))
        .header(json.0, json.1)
        .body("[1]");
    assert_eq!(login.send().await.unwrap().status(), 400);
    assert_eq!(
        get_bearer(&sandbox, "/api/settings/nothing").await.status(),
        404
    );
    assert_eq!(
        get_bearer(&sandbox, "/api/settings/users/save")
            .await
            .status(),
        405
    );

    assert!(!sandbox.panicked());
    assert!(sandbox.users().is_empty());
    let statuses: Vec<Option<u16>> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.len(), 7, "every request is recorded: {statuses:?}");
}

/// The record keeps the method, path, decoded query and how auth was sent.
#[tokio::test]
async fn requests_are_recorded() {
    let sandbox = sandbox().await;
    get_bearer(&sandbox, "/api/settings/users?sortColumn=name&pageSize=5").await;
    let recorded = sandbox.requests();
    let RecordedRequest {
        method,
        path,
        query,
        sent_bearer,
        sent_cookie,
        status,
        faults,
        ..
    } = &recorded[0];
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("GET", "/api/settings/users")
    );
    assert_eq!(
        query,
        &[
            ("sortColumn".into(), "name".into()),
            ("pageSize".into(), "5".into())
        ]
    );
    assert_eq!(
        (*sent_bearer, *sent_cookie, *status),
        (true, false, Some(200))
    );
    assert!(faults.is_empty());
}

/// Malformed bodies get a short message that names the actual problem:
/// an array where the user's object belongs, an ID that is not a positive
/// integer, a wrong method (405 with a body, not an empty answer).
#[tokio::test]
async fn malformed_requests_say_what_is_wrong() {
    let sandbox = sandbox().await;
    let client = reqwest::Client::new();
    let token = sandbox.admin_token();
    let send = |method: reqwest::Method, path: &str, body: &'static str| {
        client
            .request(method, at(&sandbox, path))
            .bearer_auth(token.expose())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        (
            reqwest::Method::POST,
            "/api/settings/users/save",
            "[true, \"John\"]",
            422,
            "invalid JSON body: expected an object with the user's fields",
        ),
        (
            reqwest::Method::POST,
            "/api/settings/users/delete",
            "[2, -4]",
            400,
            "user IDs must be positive integers",
        ),
        (
            reqwest::Method::POST,
            "/api/settings/users/delete",
            "[0]",
            400,
            "user IDs must be positive integers",
        ),
        (
            reqwest::Method::DELETE,
            "/api/settings/users",
            "",
            405,
            "method DELETE not allowed here",
        ),
        (
            reqwest::Method::GET,
            "/api/reports/asterisk/clear",
            "",
            405,
            "method GET not allowed here",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let response = send(method.clone(), path, body).await.unwrap();
        assert_eq!(response.status(), status, "{method} {path} {body}");
        assert_eq!(response.text().await.unwrap(), message, "{method} {path}");
    }
    let mut groups = payload("g@example.com");
    groups["manageGroups"] = json!([0]);
    let (status, text) = save_text(&sandbox, &groups).await;
    assert_eq!(
        (status, text.as_str()),
        (400, "manageGroups: team IDs must be positive integers")
    );
    assert!(!sandbox.panicked());
    assert!(sandbox.users().is_empty());
}
