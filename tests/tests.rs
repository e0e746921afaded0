//! Integration tests: the real binary against the simulated dashboard on
//! loopback, checked against what the dashboard recorded.

mod audit;
mod util;

mod api_asterisk;
mod api_help;
mod api_login;
mod api_reports;
mod api_scripts;
mod api_users;
mod dry_run;
mod faults;
mod hostile;
mod matrix;
mod properties;
mod secrets;
mod sending;
mod soak;
