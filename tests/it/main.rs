//! Integration tests: each talks to a real listening provider over HTTPS with reqwest.

mod admin;
mod architecture;
mod authorize_errors;
mod brands;
mod check;
mod citations;
mod cli;
mod code_flow;
mod discovery;
mod docs_examples;
mod encryption;
mod faults;
mod fixture;
mod hardening;
mod healthcheck;
mod idp_api;
mod implicit_flow;
mod login_page;
mod platform;
mod props;
mod scenarios_dir;
mod support;
mod token_endpoint;
mod tokeninfo;
mod tokens;
mod verifier;
