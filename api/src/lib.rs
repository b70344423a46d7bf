//! The cimetrics service: HTTP only. Routes, tokens, uploads, JSON and CSV, charts, badges
//! and the dashboard, over the history crate's store and questions
//! ([`cimetrics_history::History`]).
#![warn(missing_docs)]

pub mod service;
