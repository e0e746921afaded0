//! The status log and the call log downloads.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use super::{at, get_bearer, payload, sandbox, save};
use crate::sandbox::{Sandbox, XLSX_CONTENT_TYPE};

/// Gets `path` with the admin token as the `jwt` cookie only, as the
/// vendor's curl examples do for reports.
async fn get_cookie(sandbox: &Sandbox, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(at(sandbox, path))
        .header("cookie", format!("jwt={}", sandbox.admin_token().expose()))
        .send()
        .await
        .unwrap()
}

const CALLS: &str = "/api/history/calls/export?dateFrom=2021-10-13T00:00:00%2B05:00\
    &dateTo=2021-10-14T00:00:00%2B05:00&localTimeZoneOffset=%2B300";

/// The status log comes as CSV or TSV, a header and three rows per user,
/// all inside the range; the cookie and the Bearer header both work.
#[tokio::test]
async fn status_log_csv_and_tsv() {
    let sandbox = sandbox().await;
    save(&sandbox, &payload("a@example.com")).await;
    let path = "/api/reports/agents/worktime/raw?from=2019-01-01T00:00:00&to=2019-01-02T00:00:00";

    let csv = get_cookie(&sandbox, &format!("{path}&format=csv")).await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3 * 2, "{text}");
    assert_eq!(lines[0], "userId,email,name,status,start,end");
    assert!(lines[4].starts_with("2,a@example.com,John Doe,ONLINE,2019-01-01T00:00:00,"));
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|line| line.contains(",2019-01-01T0"))
    );

    let tsv = get_bearer(&sandbox, &format!("{path}&format=tsv")).await;
    assert_eq!(tsv.status(), 200);
    let text = tsv.text().await.unwrap();
    assert!(
        text.starts_with("userId\temail\tname\tstatus\tstart\tend\n"),
        "{text}"
    );
    // Same request, same bytes.
    let again = get_bearer(&sandbox, &format!("{path}&format=tsv"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text, again);
}

/// Bad times, a reversed range, an unknown format and a missing token.
#[tokio::test]
async fn status_log_rejects_bad_parameters() {
    let sandbox = sandbox().await;
    let base = "/api/reports/agents/worktime/raw";
    for query in [
        "from=2019-01-01&to=2019-01-02T00:00:00",
        "from=2019-01-01T00:00:00Z&to=2019-01-02T00:00:00",
        "from=2019-01-02T00:00:00&to=2019-01-01T00:00:00",
        "from=2019-01-01T00:00:00&to=2019-01-01T00:00:00",
        "from=2019-01-01T00:00:00&to=2019-01-02T00:00:00&format=xlsx",
        "to=2019-01-02T00:00:00",
    ] {
        let status = get_cookie(&sandbox, &format!("{base}?{query}"))
            .await
            .status();
        assert_eq!(status, 400, "{query}");
    }
    let anonymous = reqwest::get(at(&sandbox, base)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// The default call log is a real workbook: ZIP magic, the right MIME type,
/// and calamine reads its sheet with the header and two calls per user.
#[tokio::test]
async fn call_log_xlsx_opens_as_a_sheet() {
    let sandbox = sandbox().await;
    save(&sandbox, &payload("a@example.com")).await;
    let response = get_cookie(&sandbox, CALLS).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], XLSX_CONTENT_TYPE);
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");

    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let sheet = workbook.worksheet_range("Calls").unwrap();
    let rows: Vec<_> = sheet.rows().collect();
    assert_eq!(rows.len(), 1 + 2 * 2);
    assert_eq!(rows[0][0], Data::String("Date".into()));
    // Times are shown in the local offset: the range starts at local midnight.
    let Data::String(first) = &rows[1][0] else {
        panic!("{:?}", rows[1][0])
    };
    assert!(first.starts_with("2021-10-13 0"), "{first}");
    assert!(matches!(rows[1][5], Data::Float(_)));
}

/// `typeFile=csv&lang=ru` gives CSV with Russian headers.
#[tokio::test]
async fn call_log_csv_in_russian() {
    let sandbox = sandbox().await;
    let response = get_bearer(&sandbox, &format!("{CALLS}&typeFile=csv&lang=ru")).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with("Дата,Направление,"), "{text}");
    assert_eq!(text.lines().count(), 1 + 2);
}

/// A `+` sent unencoded arrives as a space and is refused, as are other
/// bad dates, offsets and choices.
#[tokio::test]
async fn call_log_rejects_bad_parameters() {
    let sandbox = sandbox().await;
    let base = "/api/history/calls/export";
    for query in [
        "dateFrom=2021-10-13T00:00:00+05:00&dateTo=2021-10-14T00:00:00%2B05:00",
        "dateFrom=2021-10-13T00:00:00&dateTo=2021-10-14T00:00:00%2B05:00",
        "dateFrom=2021-10-14T00:00:00%2B05:00&dateTo=2021-10-13T00:00:00%2B05:00",
        "dateFrom=2021-10-13T00:00:00%2B05:00&dateTo=2021-10-14T00:00:00%2B05:00\
         &localTimeZoneOffset=+300",
        "dateFrom=2021-10-13T00:00:00%2B05:00&dateTo=2021-10-14T00:00:00%2B05:00&lang=de",
        "dateFrom=2021-10-13T00:00:00%2B05:00&dateTo=2021-10-14T00:00:00%2B05:00&typeFile=pdf",
    ] {
        let response = get_cookie(&sandbox, &format!("{base}?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
    }
    let negative = format!(
        "{base}?dateFrom=2021-10-13T00:00:00-03:00\
        &dateTo=2021-10-14T00:00:00-03:00&localTimeZoneOffset=-180&typeFile=csv"
    );
    assert_eq!(get_cookie(&sandbox, &negative).await.status(), 200);
}
