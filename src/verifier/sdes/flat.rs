//! SDEs as the agent's fields: `(key, text)` pairs keyed the way the platform shows them
//! (`ctmrinfo.balance`, `personal.contacts[0].email`), in the brand's order. One walk serves
//! both sources: the SDEs a page pushed, shown as pushed, and a verified token's `lp_sdes`, of
//! which only what the authenticated reading keeps is shown.

use serde_json::Value;

use super::Kept;

/// Whose SDEs are flattened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Pushed by the page on its own: every SDE and every field, as pushed.
    Page,
    /// An `lp_sdes` that [`read`](super::read) accepted: only the kept types' kept fields and,
    /// as in `read`, a second SDE of a kept type replaces the first.
    Token,
}

/// Flattens SDEs as a page pushes them (`[{"type":"ctmrinfo","info":{…}}, …]`): the fields of
/// each under its type, skipping the `type` member itself.
pub fn flatten_sdes(sdes: &Value) -> Vec<(String, String)> {
    walk(sdes, Source::Page)
}

/// The kept fields of an `lp_sdes` that [`read`](super::read) accepted, as the agent sees them,
/// in the brand's order.
pub(crate) fn flatten_authenticated(lp_sdes: &Value) -> Vec<(String, String)> {
    walk(lp_sdes, Source::Token)
}

/// The one walk over an array of SDEs: each SDE with a string `type` gives the fields of its
/// body (`info` for `ctmrinfo`, `personal` for `personal`) under its type.
fn walk(sdes: &Value, source: Source) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sde in sdes.as_array().into_iter().flatten() {
        let Some(kind) = sde.get("type").and_then(Value::as_str) else {
            continue;
        };
        let kept = Kept::of(kind);
        let body = kept.and_then(|kept| sde.get(kept.body()));
        match (source, kept) {
            (Source::Token, Some(kept)) => {
                out.retain(|(key, _): &(String, String)| key.split('.').next() != Some(kind));
                for (key, value) in body.and_then(Value::as_object).into_iter().flatten() {
                    if kept.allows(key) {
                        flatten(format!("{kind}.{key}"), value, &mut out);
                    }
                }
            }
            (Source::Token, None) => {}
            (Source::Page, _) => match body {
                Some(body) => flatten(kind.to_owned(), body, &mut out),
                // Another type, or a kept type without its body: its members, as pushed.
                None => {
                    for (k, v) in sde
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| *k != "type")
                    {
                        flatten(format!("{kind}.{k}"), v, &mut out);
                    }
                }
            },
        }
    }
    out
}

/// Flattens a JSON value into `(key, text)` pairs: objects with dots, arrays with `[i]`. The
/// key is built once per leaf and moved into the pair.
fn flatten(key: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| flatten(format!("{key}.{k}"), v, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(format!("{key}[{i}]"), v, out)),
        Value::String(s) => out.push((key, s.clone())),
        Value::Null => {}
        other => out.push((key, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs<const N: usize>(pairs: [(&str, &str); N]) -> Vec<(String, String)> {
        pairs
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into_iter()
            .collect()
    }

    #[test]
    fn a_page_is_shown_everything_it_pushed() {
        let sdes = json!([
            {"type": "ctmrinfo", "info": {"ctype": "vip", "nickname": "x", "n": [1, null, true]}},
            {"type": "ctmrinfo", "info": {"ctype": "gold"}},
            {"type": "personal", "firstname": "Ann"},
            {"type": "cart", "total": 3, "products": [{"name": "a"}]},
            {"type": "personal", "personal": "text"},
            {"type": 7, "x": "y"},
            {"info": {"ctype": "no type"}},
            "not an sde"
        ]);
        assert_eq!(
            flatten_sdes(&sdes),
            pairs([
                ("ctmrinfo.ctype", "vip"),
                ("ctmrinfo.nickname", "x"),
                ("ctmrinfo.n[0]", "1"),
                ("ctmrinfo.n[2]", "true"),
                ("ctmrinfo.ctype", "gold"),
                ("personal.firstname", "Ann"),
                ("cart.total", "3"),
                ("cart.products[0].name", "a"),
                ("personal", "text"),
            ])
        );
        assert_eq!(flatten_sdes(&json!({"type": "ctmrinfo"})), pairs([]));
    }

    #[test]
    fn a_token_is_shown_only_what_the_platform_keeps() {
        let sdes = json!([
            {"type": "ctmrinfo", "info": {"ctype": "old", "role": "owner"}},
            {"type": "personal", "personal": {"firstname": "Ann", "nickname": "x"}},
            {"type": "ctmrinfo", "info": {"ctype": "vip", "storeNumber": "1"}, "personal": {"age": 1}},
            {"type": "cart", "total": 3},
            {"type": "personal", "firstname": "Eve"}
        ]);
        assert_eq!(
            flatten_authenticated(&sdes),
            pairs([("ctmrinfo.ctype", "vip")])
        );
    }
}
