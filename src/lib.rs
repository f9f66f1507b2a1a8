//! Zhijian (指尖): the backend of the "指尖上的工会" union welfare service.

pub mod app;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod keys;
pub mod locks;
pub mod metrics;
pub mod outbox;
pub mod request_id;
pub mod routes;
pub mod seed;
pub mod server;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
