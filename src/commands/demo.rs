//! `provision demo`: the main job, against a simulated dashboard started in
//! this process, so that a newcomer sees a real run without a real
//! dashboard.

use std::sync::Arc;

use anyhow::Context;

use crate::cli::DemoArgs;
use crate::commands::provisioning::{self, Input};
use crate::connect::Connected;
use crate::dashboard::{ClientOptions, Dashboard};
use crate::exit::Exit;
use crate::sandbox::{self, SandboxOptions};

/// Starts the sandbox on a free loopback port and provisions the file.
pub async fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let input = Input::new(&args.file, &args.input)?;
    let sandbox = sandbox::start(SandboxOptions::default())
        .await
        .context("failed to start the simulated dashboard")?;
    eprintln!(
        "Started a simulated Team Dashboard at {} (nothing leaves this machine)",
        sandbox.url()
    );
    let dashboard = Dashboard::new(
        sandbox.url(),
        sandbox.admin_token(),
        &ClientOptions::default(),
    )?;
    let connected = Connected {
        dashboard: Arc::new(dashboard),
        credentials: None,
    };
    let exit =
        provisioning::send(&input, &args.sending, args.output, async { Ok(connected) }).await;
    sandbox.shutdown().await;
    exit
}
