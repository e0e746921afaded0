pub mod dashboard;
pub mod limit;
pub mod payload;
pub mod provision;
pub mod report;
pub mod roster;
pub mod secret;
