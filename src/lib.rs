pub mod dashboard;
pub mod payload;
pub mod roster;
pub mod secret;
