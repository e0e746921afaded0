//! `provision reports status-log`: the agents' status log of a range, in
//! UTC (the endpoint takes UTC times without an offset; a time typed with
//! an offset is converted).

use anyhow::Context;

use super::{ordered, range, save, target};
use crate::cli::StatusLogArgs;
use crate::connect;
use crate::dashboard::{StatusLogFormat, StatusLogQuery};
use crate::exit::Exit;

/// Checks the range, then downloads.
pub async fn run(args: &StatusLogArgs) -> anyhow::Result<Exit> {
    let (from, to) = range(&args.range)?;
    let query = StatusLogQuery {
        from: from.utc(),
        to: to.utc(),
        format: args.format,
    };
    ordered(&query.from, &query.to)?;
    let extension = match args.format {
        StatusLogFormat::Csv => "csv",
        StatusLogFormat::Tsv => "tsv",
    };
    let target = target(
        args.range.output.as_deref(),
        format!(
            "status-log_{}_{}.{extension}",
            from.file_stamp(),
            to.file_stamp()
        ),
    );

    let connected = connect::connect(&args.connection).await?;
    let response = connected
        .dashboard
        .status_log(&query)
        .await
        .context("downloading the status log")?;
    save(
        &connected.dashboard,
        response,
        &target,
        ("status log", None),
    )
    .await
}
