//! What a rule rests on. A verdict says what the platform does only as far as its evidence
//! goes, so every rule of the verifier and every line of `check` names its basis, graded.

use std::fmt;

use serde::Serialize;

/// How strong the evidence for a rule is (`liveperson-auth.md` §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The platform's documentation says it.
    Documented,
    /// The platform was seen doing it: a documented example that works, a staff answer, a
    /// developer's report, an error code it answers with.
    Observed,
    /// OpenID Connect, JOSE or an RFC requires it; the platform's documentation is silent.
    Standard,
    /// This harness's own choice.
    Assumed,
}

impl Basis {
    /// Every basis, strongest first.
    pub const ALL: [Basis; 4] = [
        Self::Documented,
        Self::Observed,
        Self::Standard,
        Self::Assumed,
    ];

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Documented => "documented",
            Self::Observed => "observed",
            Self::Standard => "standard",
            Self::Assumed => "assumed",
        }
    }

    /// Whether the platform itself is the source: only such rules may refuse in the
    /// platform reading.
    pub fn is_the_platforms(self) -> bool {
        matches!(self, Self::Documented | Self::Observed)
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
