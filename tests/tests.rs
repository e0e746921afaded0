//! Integration tests: the real binary against the simulated dashboard on
//! loopback, checked against what the dashboard recorded.

mod util;

mod dry_run;
mod faults;
mod sending;
