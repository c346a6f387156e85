//! `oidc-harness rules`: every rule of the verifier with its basis, the reading that refuses
//! on it and its source, and every reason with the platform IDP's error code. The tables of
//! docs/verifier.md are this command's output, and a test keeps them so.

use std::process::ExitCode;

use oidc_harness::verifier::{Refuses, RejectReason, Rule};

use crate::cli::{RulesArgs, RulesFormat};

pub(crate) fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.format {
        RulesFormat::Markdown => out!("{}", markdown()),
        RulesFormat::Json => out!("{}", serde_json::to_string_pretty(&json())?),
    }
    Ok(ExitCode::SUCCESS)
}

fn refuses(rule: Rule) -> &'static str {
    match rule.refuses() {
        Refuses::Both => "both",
        Refuses::StrictOnly => "strict",
    }
}

/// The two tables, in markdown.
fn markdown() -> String {
    let mut out =
        String::from("| rule | reason | basis | refused by | source |\n|---|---|---|---|---|\n");
    for rule in Rule::ALL {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            rule.id(),
            rule.reason().code(),
            rule.basis(),
            refuses(rule),
            rule.cite().replace('|', "\\|")
        ));
    }
    out.push_str("\n| reason | meaning | internalErrorCode |\n|---|---|---|\n");
    for reason in RejectReason::ALL {
        let code = match reason.platform_error() {
            Some(error) => format!("`{}` {}", error.code, error.name),
            None => "unpublished".to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {code} |\n",
            reason.code(),
            reason.meaning()
        ));
    }
    out.pop();
    out
}

fn json() -> serde_json::Value {
    serde_json::json!({
        "rules": Rule::ALL.iter().map(|rule| serde_json::json!({
            "rule": rule.id(),
            "reason": rule.reason(),
            "basis": rule.basis(),
            "refused_by": refuses(*rule),
            "source": rule.cite(),
            "risk": rule.risk(),
        })).collect::<Vec<_>>(),
        "reasons": RejectReason::ALL.iter().map(|reason| serde_json::json!({
            "reason": reason,
            "meaning": reason.meaning(),
            "internalErrorCode": reason.platform_error_code(),
            "internalErrorName": reason.platform_error().map(|e| e.name),
        })).collect::<Vec<_>>(),
    })
}
