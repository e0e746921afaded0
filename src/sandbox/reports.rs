//! The two report downloads: the agents' status log and the call log.
//!
//! Their content is invented (the page does not show it) but deterministic:
//! a few rows per user, placed inside the requested range, so a test can
//! compare two downloads byte for byte. The parameters, on the other hand,
//! are checked strictly, because that is where clients go wrong: a `+` in an
//! offset that was not percent-encoded arrives as a space and is refused.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};

use super::App;
use super::http::{AnyAuth, ApiError, Query};
use super::store::{ADMIN_ID, ADMIN_NAME, lock};

/// The MIME type of an `.xlsx` workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The status log's time format, UTC without an offset.
const STATUS_LOG_TIME: &str = "%Y-%m-%dT%H:%M:%S";

/// A user as the reports show them.
struct Agent {
    id: u64,
    email: String,
    name: String,
}

fn agents(app: &App) -> Vec<Agent> {
    let admin = Agent {
        id: ADMIN_ID,
        email: app.admin_email.clone(),
        name: format!("{} {}", ADMIN_NAME.0, ADMIN_NAME.1),
    };
    let table = lock(&app.store.users);
    let created = table.users.values().map(|user| Agent {
        id: user.id,
        email: user.email.clone(),
        name: format!("{} {}", user.name, user.surname),
    });
    std::iter::once(admin).chain(created).collect()
}

/// `GET /api/reports/agents/worktime/raw?from=&to=&format=csv|tsv`.
pub async fn status_log(
    State(app): State<App>,
    _auth: AnyAuth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref(), &["from", "to", "format"])?;
    let from = utc_time(&query, "from")?;
    let to = utc_time(&query, "to")?;
    if from >= to {
        return Err(ApiError::bad_request("`from` must be before `to`"));
    }
    let format = query.choice("format", &["csv", "tsv"], "csv")?;
    let (delimiter, content_type) = match format {
        "tsv" => (b'\t', "text/tab-separated-values; charset=utf-8"),
        _ => (b',', "text/csv; charset=utf-8"),
    };

    // Three back-to-back statuses per user, in the first three quarters of
    // the range, at most an hour each.
    let step = ((to - from) / 4).min(TimeDelta::hours(1));
    let mut rows = vec![header_row(&[
        "userId", "email", "name", "status", "start", "end",
    ])];
    for agent in agents(&app) {
        for (k, status) in ["ONLINE", "BREAK", "ONLINE"].into_iter().enumerate() {
            let start = from + step * i32::try_from(k).unwrap_or(0);
            rows.push(vec![
                agent.id.to_string(),
                agent.email.clone(),
                agent.name.clone(),
                status.to_string(),
                start.format(STATUS_LOG_TIME).to_string(),
                (start + step).format(STATUS_LOG_TIME).to_string(),
            ]);
        }
    }
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        delimited(&rows, delimiter)?,
    )
        .into_response())
}

fn utc_time(query: &Query, name: &str) -> Result<NaiveDateTime, ApiError> {
    let value = query.required(name)?;
    NaiveDateTime::parse_from_str(value, STATUS_LOG_TIME).map_err(|_| {
        ApiError::bad_request(format!(
            "`{name}` must be YYYY-MM-DDTHH:MM:SS, got {value:?}"
        ))
    })
}

fn header_row(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// Writes rows as CSV (or TSV) with the `csv` crate's quoting.
fn delimited(rows: &[Vec<String>], delimiter: u8) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).map_err(internal)?;
    }
    writer.into_inner().map_err(|err| internal(err.error()))
}

fn internal(err: impl std::fmt::Display) -> ApiError {
    tracing::error!(%err, "could not build a report");
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "could not build the report",
    )
}

/// The call log's parameters.
const CALL_PARAMS: [&str; 5] = [
    "dateFrom",
    "dateTo",
    "localTimeZoneOffset",
    "lang",
    "typeFile",
];

/// `GET /api/history/calls/export?dateFrom=&dateTo=&localTimeZoneOffset=&lang=&typeFile=`.
pub async fn call_log(
    State(app): State<App>,
    _auth: AnyAuth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref(), &CALL_PARAMS)?;
    let from = offset_time(&query, "dateFrom")?;
    let to = offset_time(&query, "dateTo")?;
    if from >= to {
        return Err(ApiError::bad_request("`dateFrom` must be before `dateTo`"));
    }
    let local = local_offset(&query)?;
    let russian = query.choice("lang", &["en", "ru"], "en")? == "ru";
    let type_file = query.choice("typeFile", &["csv", "xlsx"], "xlsx")?;

    let rows = call_rows(&agents(&app), from, to, local, russian);
    if type_file == "csv" {
        let body = delimited(&rows, b',')?;
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"calls.csv\"",
            ),
        ];
        return Ok((headers, body).into_response());
    }
    let headers = [
        (header::CONTENT_TYPE, XLSX_CONTENT_TYPE),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"calls.xlsx\"",
        ),
    ];
    Ok((headers, workbook(&rows)?).into_response())
}

/// An RFC 3339 time with its offset, e.g. `2021-10-13T00:00:00+05:00`.
fn offset_time(query: &Query, name: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    let value = query.required(name)?;
    DateTime::parse_from_rfc3339(value).map_err(|_| {
        ApiError::bad_request(format!(
            "`{name}` must be like 2021-10-13T00:00:00+05:00 (with %2B for +), got {value:?}"
        ))
    })
}

/// `localTimeZoneOffset`: minutes east of UTC, `+300` or `-180`; 0 if absent.
fn local_offset(query: &Query) -> Result<FixedOffset, ApiError> {
    let Some(value) = query.get("localTimeZoneOffset") else {
        return Ok(FixedOffset::east_opt(0).expect("zero is a valid offset"));
    };
    value
        .parse::<i32>()
        .ok()
        .filter(|minutes| (-720..=840).contains(minutes))
        .and_then(|minutes| FixedOffset::east_opt(minutes * 60))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`localTimeZoneOffset` must be minutes from -720 to +840 (with %2B for +), got {value:?}"
            ))
        })
}

/// The header and two calls per user, spread evenly over the range and
/// shown in the client's local time.
fn call_rows(
    agents: &[Agent],
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    local: FixedOffset,
    russian: bool,
) -> Vec<Vec<String>> {
    let (header, directions, results) = if russian {
        (
            [
                "Дата",
                "Направление",
                "Номер",
                "Сотрудник",
                "Email",
                "Длительность, с",
                "Результат",
            ],
            ["Входящий", "Исходящий"],
            ["Отвечен", "Пропущен"],
        )
    } else {
        (
            [
                "Date",
                "Direction",
                "Number",
                "Agent",
                "Email",
                "Duration, s",
                "Result",
            ],
            ["Incoming", "Outgoing"],
            ["Answered", "Missed"],
        )
    };
    let calls = i32::try_from(agents.len() * 2).unwrap_or(i32::MAX);
    let step = (to - from) / (calls + 1);
    let mut rows = vec![header_row(&header)];
    for (n, (agent, k)) in agents
        .iter()
        .flat_map(|agent| [(agent, 0), (agent, 1)])
        .enumerate()
    {
        let at = from + step * (i32::try_from(n).unwrap_or(0) + 1);
        rows.push(vec![
            at.with_timezone(&local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            directions[k].to_string(),
            format!("+1555{:07}", agent.id * 10 + k as u64),
            agent.name.clone(),
            agent.email.clone(),
            (30 + 17 * agent.id + 11 * k as u64).to_string(),
            results[k].to_string(),
        ]);
    }
    rows
}

/// A real workbook, one sheet named "Calls", numbers stored as numbers.
fn workbook(rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Calls").map_err(internal)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(internal)?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(internal)?;
            match cell.parse::<f64>() {
                Ok(number) if r > 0 && !cell.starts_with('+') => {
                    sheet.write_number(r, c, number).map_err(internal)?
                }
                _ => sheet.write_string(r, c, cell).map_err(internal)?,
            };
        }
    }
    workbook.save_to_buffer().map_err(internal)
}
