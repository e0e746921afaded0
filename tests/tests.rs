//! Integration tests: the real binary against the simulated dashboard on
//! loopback, checked against what the dashboard recorded.

mod audit;
mod util;

/// The checks the fuzz targets make, replayed by `fuzz_regressions`.
#[path = "../fuzz/oracles.rs"]
mod fuzz_oracles;

mod api_asterisk;
mod api_help;
mod api_login;
mod api_reports;
mod api_scripts;
mod api_users;
mod dry_run;
mod faults;
mod fuzz_regressions;
mod hostile;
mod matrix;
mod properties;
mod secrets;
mod sending;
mod soak;
