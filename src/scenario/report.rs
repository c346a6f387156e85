//! What a run and a check report: each outcome with its evidence, then one report in three
//! forms: text for people, JSON for scripts, JUnit XML for CI systems (and HTML for both).

use std::fmt::Write as _;

use askama::Template;
use serde::Serialize;

use super::file::Verdict;
use crate::verifier::{Basis, Rejection};

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The verdict matched the expectation.
    Pass,
    /// It did not, or the harness could not drive the flow.
    Fail,
    /// Not run; the scenario says why.
    Skip,
    /// A `check` finding that only a stricter reading than the platform's refuses (a standard
    /// the platform is silent on, or this harness's own choice). `check --strict` counts it as
    /// a failure.
    Warn,
    /// A `check` finding that differs from Google's shape only: never a failure, not even under
    /// `--strict`.
    Note,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The scenario id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The folder it came from (`conformance`, `malformed`, `flows`), for grouping.
    pub group: String,
    /// Pass, fail or skip.
    pub status: Status,
    /// What the platform decided, if the flow got that far.
    pub verdict: Option<Verdict>,
    /// The reason code of a rejection.
    pub reason: Option<&'static str>,
    /// The rule the rejection is on, its basis and the platform IDP's error code for it
    /// (`unpublished` where none is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleShown>,
    /// What the platform reading decided, where it differs from `verdict` (the strict
    /// reading's): `authenticated`, or `rejected (reason)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The rejection's detail, or why the scenario failed or was skipped.
    pub detail: String,
    /// What was expected, as `rejected (expired)`.
    pub expected: String,
    /// Wall time, milliseconds.
    pub millis: u64,
    /// What the report can show beside the verdict: the token and the provider's answer.
    #[serde(skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
    /// What a `check` line rests on: the platform's documentation, its observed behaviour, a
    /// standard, or this harness's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<crate::verifier::Basis>,
    /// Where that is written, as `liveperson-auth.md §8.5` or `RFC 6749 §4.1.3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

/// A refusal's rule as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleShown {
    /// The rule's id (`lifetime`).
    pub id: &'static str,
    /// What it rests on.
    pub basis: Basis,
    /// Where it comes from.
    pub cite: &'static str,
    /// The platform IDP's `internalErrorCode` for the reason, or `unpublished`.
    pub internal_error_code: &'static str,
}

impl RuleShown {
    /// The rule a refusal is on.
    pub fn of(rejection: &Rejection) -> Self {
        Self {
            id: rejection.rule.id(),
            basis: rejection.basis(),
            cite: rejection.rule.cite(),
            internal_error_code: rejection.platform_error_code(),
        }
    }
}

/// What a check or a scenario saw, for the HTML report: the token's decoded header and claims
/// (never its signature or ciphertext), the provider's answer, the mutation applied.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// The protected header of the ID token involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<serde_json::Value>,
    /// Its claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
    /// The provider's answer that decided the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Answer>,
    /// The scenario's provider faults and mutations, as written in its file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mutations: Vec<String>,
}

impl Evidence {
    /// Nothing seen.
    pub fn is_empty(&self) -> bool {
        self.header.is_none()
            && self.claims.is_none()
            && self.response.is_none()
            && self.mutations.is_empty()
    }

    /// The decoded header and claims of a compact JWS; an envelope or garbage shows nothing.
    pub fn of_token(token: &str) -> Self {
        let mut parts = token.split('.');
        let decode = |part: Option<&str>| {
            let bytes = crate::jose::compact::b64url(part?, "segment").ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        };
        let header = decode(parts.next());
        let claims = if token.split('.').count() == 3 {
            decode(parts.next())
        } else {
            None
        };
        Self {
            header,
            claims,
            ..Self::default()
        }
    }
}

/// An HTTP answer as the report shows it: status, the headers that matter, the body (an
/// `error` body in full, anything else shortened; tokens and codes never appear).
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// `Content-Type`, `Cache-Control`, `Pragma`, `WWW-Authenticate`, when present.
    pub headers: Vec<(String, String)>,
    /// The body, with token and code values elided.
    pub body: String,
}

/// The outcomes of a run, with their totals.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every scenario, in run order.
    pub outcomes: Vec<Outcome>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// How many were skipped.
    pub skipped: usize,
    /// How many `check` findings are warnings.
    pub warned: usize,
    /// How many `check` findings are notes (Google's shape only; never failures).
    pub noted: usize,
    /// Wall time of the run, milliseconds.
    pub millis: u64,
}

impl Report {
    /// Totals `outcomes`.
    pub fn new(outcomes: Vec<Outcome>, millis: u64) -> Self {
        let count = |status| outcomes.iter().filter(|o| o.status == status).count();
        Self {
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            skipped: count(Status::Skip),
            warned: count(Status::Warn),
            noted: count(Status::Note),
            outcomes,
            millis,
        }
    }

    /// The closing line: `N passed, N failed` (and `, N warned`, `, N skipped`).
    pub fn summary(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.warned > 0 {
            let _ = write!(line, ", {} warned", self.warned);
        }
        if self.noted > 0 {
            let _ = write!(line, ", {} noted", self.noted);
        }
        if self.skipped > 0 {
            let _ = write!(line, ", {} skipped", self.skipped);
        }
        line
    }

    /// One line per scenario (status, id, verdict and reason, time), then the summary.
    pub fn text(&self) -> String {
        let width = self.outcomes.iter().map(|o| o.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for o in &self.outcomes {
            let status = match o.status {
                Status::Pass => "PASS",
                Status::Fail => "FAIL",
                Status::Skip => "SKIP",
                Status::Warn => "WARN",
                Status::Note => "NOTE",
            };
            let got = verdict_text(o);
            if o.group == "check" {
                // A checklist line: what was found, or what is wrong, and what that rests on.
                let _ = writeln!(
                    out,
                    "{status}  {:<width$}  {:>5} ms  {}{}",
                    o.id,
                    o.millis,
                    o.detail,
                    basis_text(o).map(|b| format!(" [{b}]")).unwrap_or_default()
                );
                continue;
            }
            let _ = write!(
                out,
                "{status}  {:<width$}  {got:<32} {:>5} ms",
                o.id, o.millis
            );
            if let Some(platform) = &o.platform {
                let _ = write!(out, "  platform: {platform}");
            }
            match o.status {
                Status::Fail => {
                    let _ = write!(out, "\n      expected {}; {}", o.expected, o.detail);
                }
                Status::Skip => {
                    let _ = write!(out, "  {}", o.detail);
                }
                Status::Pass | Status::Warn | Status::Note => {}
            }
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// JUnit XML: one testsuite per folder, one testcase per scenario, a `<failure>` with the
    /// expected and the observed verdict, a `<skipped>` with the reason.
    pub fn junit(&self) -> String {
        let mut groups: Vec<&str> = self.outcomes.iter().map(|o| o.group.as_str()).collect();
        groups.dedup();
        groups.sort_unstable();
        groups.dedup();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"oidc-harness\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.outcomes.len(),
            self.failed,
            self.skipped,
            self.millis as f64 / 1000.0
        );
        for group in groups {
            let cases: Vec<&Outcome> = self.outcomes.iter().filter(|o| o.group == group).collect();
            let failures = cases.iter().filter(|o| o.status == Status::Fail).count();
            let skipped = cases.iter().filter(|o| o.status == Status::Skip).count();
            let time: u64 = cases.iter().map(|o| o.millis).sum();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
                escape(group),
                cases.len(),
                time as f64 / 1000.0
            );
            for o in cases {
                let _ = write!(
                    xml,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                    escape(group),
                    escape(&o.id),
                    o.millis as f64 / 1000.0
                );
                // The refusal's rule, its basis and the platform IDP's error code, and the
                // platform reading where it differs, as testcase properties.
                let properties = junit_properties(o);
                if !properties.is_empty() {
                    xml.push_str(">\n");
                    xml.push_str(&properties);
                }
                let close = if properties.is_empty() { ">\n" } else { "" };
                let basis = basis_text(o).map(|b| format!(" [{b}]")).unwrap_or_default();
                match o.status {
                    Status::Pass if basis.is_empty() && properties.is_empty() => {
                        xml.push_str("/>\n");
                    }
                    Status::Pass if basis.is_empty() => xml.push_str("    </testcase>\n"),
                    Status::Pass => {
                        let _ = writeln!(
                            xml,
                            "{close}      <system-out>PASS: {}</system-out>\n    </testcase>",
                            escape(&format!("{}{basis}", o.detail))
                        );
                    }
                    // A warning or a note passes; its finding goes where CI tools show a
                    // test's output.
                    Status::Warn | Status::Note => {
                        let label = if o.status == Status::Warn {
                            "WARN"
                        } else {
                            "NOTE"
                        };
                        let _ = writeln!(
                            xml,
                            "{close}      <system-out>{label}: {}</system-out>\n    </testcase>",
                            escape(&format!("{}{basis}", o.detail))
                        );
                    }
                    Status::Fail => {
                        let got = o.reason.map_or_else(
                            || format!("{:?}", o.verdict),
                            |r| format!("rejected ({r})"),
                        );
                        let _ = writeln!(
                            xml,
                            "{close}      <failure message=\"expected {}, got {}\">{}</failure>\n    </testcase>",
                            escape(&o.expected),
                            escape(&got),
                            escape(&format!("{}\n{}{basis}", o.title, o.detail))
                        );
                    }
                    Status::Skip => {
                        let _ = writeln!(
                            xml,
                            "{close}      <skipped message=\"{}\"/>\n    </testcase>",
                            escape(&o.detail)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

/// A testcase's `<properties>`: the refusal's rule, basis and platform error code, and the
/// platform reading where it differs; empty when there is none of these.
fn junit_properties(o: &Outcome) -> String {
    let mut props: Vec<(&str, String)> = Vec::new();
    if let Some(rule) = &o.rule {
        props.push(("rule", rule.id.to_owned()));
        props.push(("basis", rule.basis.as_str().to_owned()));
        props.push(("cite", rule.cite.to_owned()));
        props.push(("internalErrorCode", rule.internal_error_code.to_owned()));
    }
    if let Some(platform) = &o.platform {
        props.push(("platform", platform.clone()));
    }
    if props.is_empty() {
        return String::new();
    }
    let mut xml = String::from("      <properties>\n");
    for (name, value) in props {
        let _ = writeln!(
            xml,
            "        <property name=\"{name}\" value=\"{}\"/>",
            escape(&value)
        );
    }
    xml.push_str("      </properties>\n");
    xml
}

/// One outcome as the HTML report shows it.
struct HtmlRow<'a> {
    outcome: &'a Outcome,
    status: &'static str,
    label: &'static str,
    anchor: String,
    /// A scenario's verdict (`rejected (expired)`); none for a check line.
    got: Option<String>,
    header: Option<String>,
    claims: Option<String>,
    /// What a check line rests on, as `standard, RFC 6749 §4.1.3`.
    basis: Option<String>,
}

/// The self-contained HTML report: inline style, no script, no outside request (its
/// Content-Security-Policy forbids both); every value escaped by the template.
#[derive(Template)]
#[template(path = "report.html")]
struct HtmlReport<'a> {
    title: &'a str,
    subject: &'a str,
    noun: &'a str,
    report: &'a Report,
    rows: Vec<HtmlRow<'a>>,
    attention: Vec<HtmlRow<'a>>,
}

impl Report {
    /// The report as one HTML file, titled `title`, about `subject` (the provider's discovery
    /// URL, the scenario folders).
    pub fn html(&self, title: &str, subject: &str) -> String {
        let checks = self.outcomes.iter().all(|o| o.group == "check");
        let page = HtmlReport {
            title,
            subject,
            noun: if checks { "check" } else { "scenario" },
            report: self,
            rows: self
                .outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| html_row(i, o))
                .collect(),
            attention: self
                .outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| matches!(o.status, Status::Fail | Status::Warn))
                .map(|(i, o)| html_row(i, o))
                .collect(),
        };
        page.render()
            .unwrap_or_else(|e| format!("<!doctype html><title>report</title><p>{e}</p>"))
    }
}

fn html_row(i: usize, o: &Outcome) -> HtmlRow<'_> {
    let (status, label) = match o.status {
        Status::Pass => ("pass", "PASS"),
        Status::Fail => ("fail", "FAIL"),
        Status::Skip => ("skip", "SKIP"),
        Status::Warn => ("warn", "WARN"),
        Status::Note => ("note", "NOTE"),
    };
    HtmlRow {
        outcome: o,
        status,
        label,
        anchor: format!("o{i}"),
        got: (o.group != "check").then(|| verdict_text(o)),
        header: o.evidence.header.as_ref().map(pretty),
        claims: o.evidence.claims.as_ref().map(pretty),
        basis: basis_text(o),
    }
}

/// `basis, citation` of a check line (`standard, RFC 6749 §4.1.3`), if it has a basis.
fn basis_text(o: &Outcome) -> Option<String> {
    let basis = o.basis?;
    Some(match &o.citation {
        Some(citation) => format!("{basis}, {citation}"),
        None => basis.to_string(),
    })
}

/// What a scenario got, as the text report says it.
fn verdict_text(o: &Outcome) -> String {
    match (o.verdict, o.reason) {
        (_, Some(reason)) => format!("rejected ({reason})"),
        (Some(super::file::Verdict::Authenticated), None) => "authenticated".to_owned(),
        _ => "-".to_owned(),
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// XML text and attribute escaping; characters XML 1.0 forbids are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
