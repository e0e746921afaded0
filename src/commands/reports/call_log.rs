//! `provision reports call-log`: the call log of a range. Each end keeps
//! the offset it was typed with; one typed without gets `--tz-offset`,
//! which defaults to the offset typed in `--from`, else UTC. The file
//! shows its times in that same `--tz-offset`.

use anyhow::Context;
use chrono::FixedOffset;

use super::{ordered, range, save, target};
use crate::cli::CallLogArgs;
use crate::connect;
use crate::dashboard::{CallLogFormat, CallLogQuery};
use crate::dates;
use crate::exit::Exit;
use crate::transfer;

/// Checks the range and the offset, then downloads.
pub async fn run(args: &CallLogArgs) -> anyhow::Result<Exit> {
    let (from, to) = range(&args.range)?;
    let offset = match &args.tz_offset {
        Some(text) => dates::parse_offset(text).context("--tz-offset")?,
        None => from
            .offset
            .unwrap_or(FixedOffset::east_opt(0).expect("zero is a valid offset")),
    };
    let query = CallLogQuery {
        from: from.with_offset_or(offset),
        to: to.with_offset_or(offset),
        local_offset_minutes: offset.local_minus_utc() / 60,
        lang: args.lang,
        format: args.format,
    };
    ordered(&query.from, &query.to)?;
    let extension = match args.format {
        CallLogFormat::Csv => "csv",
        CallLogFormat::Xlsx => "xlsx",
    };
    let target = target(
        args.range.output.as_deref(),
        format!(
            "call-log_{}_{}.{extension}",
            from.file_stamp(),
            to.file_stamp()
        ),
    );

    let connected = connect::connect(&args.connection).await?;
    let response = connected
        .dashboard
        .call_log(&query)
        .await
        .context("downloading the call log")?;
    let magic = match args.format {
        CallLogFormat::Xlsx => Some(transfer::XLSX_MAGIC),
        CallLogFormat::Csv => None,
    };
    save(&connected.dashboard, response, &target, ("call log", magic)).await
}
