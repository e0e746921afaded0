//! Any text as a config template: parsing it, checking it against a header
//! and rendering it for an agent must never panic, nor give a config with
//! more lines than the template (see `fuzz/oracles.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
#[allow(dead_code, reason = "each target uses one of the checks")]
mod oracles;

fuzz_target!(|text: &str| {
    oracles::check_template(text);
});
