//! A refusal: the [`Rule`] broken, its [`RejectReason`] and what exactly was wrong. It lives
//! apart from both, since a rule names its reason: `rule` imports `reason`, and this file both.

use std::fmt;

use serde::Serialize;

use super::basis::Basis;
use super::reason::RejectReason;
use super::rule::Rule;

/// A refusal: the rule broken, its reason and a sentence saying what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The stable reason.
    pub reason: RejectReason,
    /// The rule the token broke.
    pub rule: Rule,
    /// What was wrong, for people.
    pub detail: String,
    /// Under the platform reading: the strict reading's refusal, when it is an earlier one
    /// (a rule only the strict reading refuses on broke before this one).
    #[serde(skip)]
    pub strict_first: Option<Box<Rejection>>,
}

impl Rejection {
    /// A rejection for `reason`, on the first rule with that reason.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            rule: Rule::for_reason(reason),
            detail: detail.into(),
            strict_first: None,
        }
    }

    /// A rejection on `rule`, with its reason.
    pub fn on(rule: Rule, detail: impl Into<String>) -> Self {
        Self {
            reason: rule.reason(),
            rule,
            detail: detail.into(),
            strict_first: None,
        }
    }

    /// The same refusal, on `rule` (its reason kept).
    pub fn with_rule(mut self, rule: Rule) -> Self {
        self.rule = rule;
        self
    }

    /// The strict reading's refusal: an earlier one where there was one, else this.
    pub fn strict(&self) -> &Rejection {
        self.strict_first.as_deref().unwrap_or(self)
    }

    /// What the rule rests on.
    pub fn basis(&self) -> Basis {
        self.rule.basis()
    }

    /// The platform IDP's error code for it, or `unpublished`.
    pub fn platform_error_code(&self) -> &'static str {
        self.reason.platform_error_code()
    }

    /// The refusal with its rule, basis and platform code, on one line:
    /// `lifetime_invalid: exp - iat is ... [rule lifetime, assumed; platform error unpublished]`.
    pub fn explained(&self) -> String {
        format!(
            "{}: {} [rule {}, {}; platform error {}]",
            self.reason.code(),
            self.detail,
            self.rule.id(),
            self.rule.basis(),
            self.platform_error_code()
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for Rejection {}
