//! `provision`: bulk-provision call-centre agents into a Softphone.Pro Team
//! Dashboard, and drive the rest of its REST API.
//!
//! Data flows one way: the agents file is read and checked by [`roster`],
//! turned into `users/save` bodies by [`payload`], sent by [`provision`]
//! through the [`dashboard`] client, and told to the user by [`report`].
//! [`sandbox`] is a simulated dashboard for demos and tests.

pub mod cli;
pub mod commands;
pub mod connect;
pub mod dashboard;
pub mod dates;
pub mod exit;
pub mod limit;
pub mod logging;
pub mod output;
pub mod payload;
pub mod provision;
pub mod report;
pub mod roster;
pub mod sandbox;
pub mod secret;
pub mod signal;
pub mod transfer;
