//! JSON text edited in place: every value is visited with its path, and the ones the caller
//! replaces are swapped for new text while everything else (member order, duplicate members,
//! escapes, number spellings, whitespace) stays byte for byte. `serde_json` cannot do this: it
//! reads JSON into values, and a value has forgotten how it was written.
//!
//! The scanner is iterative, so a claim nested 10 000 arrays deep costs a deeper `Vec`, not a
//! deeper stack.

use std::fmt;

/// One step of a path: an object member (by its decoded name) or an array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => write!(f, ".{key}"),
            Self::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// What kind of value the scanner is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (its text includes the quotes).
    String,
    /// A number, as written.
    Number,
    /// `true`, `false` or `null`.
    Literal,
    /// An object, visited before its members; replacing it skips them.
    Object,
    /// An array, visited before its elements; replacing it skips them.
    Array,
}

/// Why a text is not JSON, with the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not JSON at byte {at}: {what}")]
pub struct NotJson {
    /// Where.
    pub at: usize,
    /// What was expected.
    pub what: &'static str,
}

/// Visits every value of `text` (one JSON value, surrounded by any whitespace) in document
/// order. `edit(path, kind, raw)` gets the value's exact text (for a container, only its
/// opening bracket); returning `Some(new)` replaces the value (a container whole, its members
/// not visited). Returns the edited text.
pub fn rewrite(
    text: &str,
    mut edit: impl FnMut(&[Step], Kind, &str) -> Option<String>,
) -> Result<String, NotJson> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut path: Vec<Step> = Vec::new();
    // For each open container: true for an object.
    let mut open: Vec<bool> = Vec::new();
    loop {
        // A value starts here.
        scanner.skip_ws();
        let start = scanner.at;
        let kind = match scanner.peek() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b't' | b'f' | b'n') => Kind::Literal,
            _ => return Err(scanner.error("a value")),
        };
        let mut end = match kind {
            Kind::String => scanner.string()?,
            Kind::Number => scanner.number()?,
            Kind::Literal => scanner.literal()?,
            Kind::Object | Kind::Array => start + 1,
        };
        let replaced = edit(&path, kind, &text[start..end]);
        let descend = replaced.is_none() && matches!(kind, Kind::Object | Kind::Array);
        if let Some(new) = replaced {
            if matches!(kind, Kind::Object | Kind::Array) {
                // Only a replaced container is measured: measuring every one would make deep
                // nesting quadratic.
                end = scanner.skip_value()?;
            }
            out.push_str(&text[copied..start]);
            out.push_str(&new);
            copied = end;
        }
        if descend {
            scanner.at = start + 1;
            scanner.skip_ws();
            let close = if kind == Kind::Object { b'}' } else { b']' };
            if scanner.peek() == Some(close) {
                scanner.at += 1;
            } else {
                open.push(kind == Kind::Object);
                if kind == Kind::Object {
                    path.push(Step::Key(scanner.member_name()?));
                } else {
                    path.push(Step::Index(0));
                }
                continue;
            }
        } else {
            scanner.at = end;
        }
        // After a value: close containers, or move to the next member or element.
        loop {
            scanner.skip_ws();
            let Some(&object) = open.last() else {
                if scanner.at != text.len() {
                    return Err(scanner.error("the end of the text"));
                }
                out.push_str(&text[copied..]);
                return Ok(out);
            };
            match (scanner.peek(), object) {
                (Some(b','), true) => {
                    scanner.at += 1;
                    scanner.skip_ws();
                    let name = scanner.member_name()?;
                    if let Some(last) = path.last_mut() {
                        *last = Step::Key(name);
                    }
                    break;
                }
                (Some(b','), false) => {
                    scanner.at += 1;
                    if let Some(Step::Index(i)) = path.last_mut() {
                        *i += 1;
                    }
                    break;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    scanner.at += 1;
                    open.pop();
                    path.pop();
                }
                _ => return Err(scanner.error(if object { "',' or '}'" } else { "',' or ']'" })),
            }
        }
    }
}

/// Decodes a JSON string literal (quotes included).
pub fn decode_string(raw: &str) -> Option<String> {
    serde_json::from_str(raw).ok()
}

/// One character of a JSON string literal as written: its decoded `char` and its text (the
/// character itself, or an escape such as `\u00e9` or a surrogate pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit<'a> {
    /// The character.
    pub ch: char,
    /// How it was written.
    pub raw: &'a str,
}

/// The characters of a string literal (quotes included) as written, or `None` when it is not
/// a valid literal.
pub fn units(raw: &str) -> Option<Vec<Unit<'_>>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(ch) = rest.chars().next() {
        if ch != '\\' {
            let (unit, tail) = rest.split_at(ch.len_utf8());
            out.push(Unit { ch, raw: unit });
            rest = tail;
            continue;
        }
        let escape = rest.as_bytes().get(1).copied()?;
        let (len, ch) = match escape {
            b'u' => {
                let hi = u32::from_str_radix(rest.get(2..6)?, 16).ok()?;
                if (0xD800..0xDC00).contains(&hi) && rest.get(6..8) == Some("\\u") {
                    let lo = u32::from_str_radix(rest.get(8..12)?, 16).ok()?;
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?);
                    (12, char::from_u32(code)?)
                } else {
                    (6, char::from_u32(hi)?)
                }
            }
            b'"' => (2, '"'),
            b'\\' => (2, '\\'),
            b'/' => (2, '/'),
            b'b' => (2, '\u{8}'),
            b'f' => (2, '\u{c}'),
            b'n' => (2, '\n'),
            b'r' => (2, '\r'),
            b't' => (2, '\t'),
            _ => return None,
        };
        let (unit, tail) = rest.split_at(len);
        out.push(Unit { ch, raw: unit });
        rest = tail;
    }
    Some(out)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn error(&self, what: &'static str) -> NotJson {
        NotJson { at: self.at, what }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The end of the string literal starting at `at`.
    fn string(&self) -> Result<usize, NotJson> {
        let mut i = self.at + 1;
        loop {
            match self.bytes.get(i) {
                Some(b'"') => return Ok(i + 1),
                Some(b'\\') => i += 2,
                Some(0..=0x1f) | None => {
                    return Err(NotJson {
                        at: i,
                        what: "a closing quote",
                    })
                }
                Some(_) => i += 1,
            }
        }
    }

    fn number(&self) -> Result<usize, NotJson> {
        let mut i = self.at;
        while matches!(
            self.bytes.get(i),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            i += 1;
        }
        let raw = &self.text[self.at..i];
        // The grammar, without building the value (1e400 is a number, if not an f64).
        let valid = raw
            .strip_prefix('-')
            .unwrap_or(raw)
            .split_once(['e', 'E'])
            .map_or(
                Some((raw.strip_prefix('-').unwrap_or(raw), None)),
                |(m, e)| Some((m, Some(e))),
            )
            .is_some_and(|(mantissa, exponent)| {
                let (int, frac) = mantissa
                    .split_once('.')
                    .map_or((mantissa, None), |(i, f)| (i, Some(f)));
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                digits(int)
                    && (int == "0" || !int.starts_with('0'))
                    && frac.is_none_or(digits)
                    && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
            });
        if valid {
            Ok(i)
        } else {
            Err(self.error("a number"))
        }
    }

    fn literal(&self) -> Result<usize, NotJson> {
        let rest = &self.bytes[self.at..];
        ["true", "false", "null"]
            .iter()
            .find(|word| rest.starts_with(word.as_bytes()))
            .map(|word| self.at + word.len())
            .ok_or_else(|| self.error("true, false or null"))
    }

    /// The end of the container starting at `at`, checked only for balance and strings: its
    /// members are scanned properly when the caller descends into it.
    fn skip_value(&self) -> Result<usize, NotJson> {
        let mut depth = 0usize;
        let mut i = self.at;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'"' => {
                    i = Scanner {
                        text: self.text,
                        bytes: self.bytes,
                        at: i,
                    }
                    .string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Err(NotJson {
            at: i,
            what: "the end of a container",
        })
    }

    /// `"name"` then `:`; leaves `at` on the value.
    fn member_name(&mut self) -> Result<String, NotJson> {
        if self.peek() != Some(b'"') {
            return Err(self.error("a member name"));
        }
        let end = self.string()?;
        let name = decode_string(&self.text[self.at..end]).ok_or_else(|| self.error("a string"))?;
        self.at = end;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error("':'"));
        }
        self.at += 1;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        rewrite(text, |path, kind, raw| {
            let path: String = path.iter().map(ToString::to_string).collect();
            seen.push(format!("{path} {kind:?} {raw}"));
            None
        })
        .unwrap();
        seen
    }

    #[test]
    fn visits_every_value_with_its_path_in_document_order() {
        assert_eq!(
            paths(r#" {"a" : [1, {"b":"x"}, []], "a":null, "\u0063":{} } "#),
            vec![
                " Object {",
                ".a Array [",
                ".a[0] Number 1",
                ".a[1] Object {",
                r#".a[1].b String "x""#,
                ".a[2] Array [",
                ".a Literal null",
                ".c Object {",
            ]
        );
    }

    #[test]
    fn replaces_only_what_the_editor_names_and_keeps_every_other_byte() {
        let text = "{ \"sub\":\"a\\u00e9\",\n \"exp\":1795661188.0,\"sub\":\"a\u{e9}\", \"x\":[\"a\u{e9}\",{\"y\":1e400}] }";
        let out = rewrite(text, |path, kind, raw| {
            (kind == Kind::String && decode_string(raw).as_deref() == Some("a\u{e9}"))
                .then(|| format!("\"{}\"", path.len()))
        })
        .unwrap();
        assert_eq!(
            out,
            "{ \"sub\":\"1\",\n \"exp\":1795661188.0,\"sub\":\"1\", \"x\":[\"2\",{\"y\":1e400}] }"
        );
    }

    #[test]
    fn a_replaced_container_is_not_entered() {
        let out = rewrite(r#"{"jwk":{"n":"x"},"kid":"k"}"#, |path, kind, _| {
            (path == [Step::Key("jwk".into())] && kind == Kind::Object).then(|| "{}".to_owned())
        })
        .unwrap();
        assert_eq!(out, r#"{"jwk":{},"kid":"k"}"#);
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = format!("{{\"d\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(rewrite(&deep, |_, _, _| None).unwrap(), deep);
    }

    #[test]
    fn what_is_not_json_is_an_error_with_its_offset() {
        for (text, at) in [
            ("{\"a\":1,}", 7),
            ("[1 2]", 3),
            ("{\"a\" 1}", 5),
            ("\"open", 5),
            ("01", 0),
            ("1.", 0),
            ("{} x", 3),
            ("", 0),
            ("{\"a\":tru}", 5),
        ] {
            assert_eq!(rewrite(text, |_, _, _| None).unwrap_err().at, at, "{text}");
        }
    }

    #[test]
    fn units_keep_each_character_as_written() {
        let raw = r#""a\u00E9\n\ud83d\ude00\/é""#;
        let units = units(raw).unwrap();
        let written: Vec<(char, &str)> = units.iter().map(|u| (u.ch, u.raw)).collect();
        assert_eq!(
            written,
            vec![
                ('a', "a"),
                ('\u{e9}', "\\u00E9"),
                ('\n', "\\n"),
                ('\u{1f600}', "\\ud83d\\ude00"),
                ('/', "\\/"),
                ('\u{e9}', "\u{e9}"),
            ]
        );
        assert_eq!(super::units(r#""\x""#), None);
    }
}
