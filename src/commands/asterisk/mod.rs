//! `provision asterisk upload|clear`: the Asterisk queue_log endpoints.

pub mod clear;
pub mod upload;
