//! Deserializing a JSON value into a typed value with the field path of any error: every
//! failure is a [`LoadError::Field`] naming the file and the path of the field, such as
//! `transactions[3].gas`.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::LoadError;

/// Shown as the field of an error about the file's top-level value.
const TOP_LEVEL: &str = "(top level)";

/// The longest reason kept in an error message (serde quotes the offending value, which
/// may be a whole bytecode).
const MAX_REASON: usize = 200;

/// `value`, read as a `T`; an error names `path` and the field path below `prefix` (the
/// path of `value` itself in the file, empty for the top level).
pub(super) fn from_value<T: DeserializeOwned>(
    value: &Value,
    path: &Path,
    prefix: &str,
) -> Result<T, LoadError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let below = e.path().to_string();
        field_error(path, &join(prefix, &below), &e.into_inner().to_string())
    })
}

/// A `LoadError::Field` for `field` with serde's message. serde reports a missing field
/// at the struct that lacks it ("missing field `gasUsed`"); the error names the missing
/// field itself instead, with the reason "missing".
pub(super) fn field_error(path: &Path, field: &str, message: &str) -> LoadError {
    let (field, reason) = match missing_field(message) {
        Some(name) => (join(field, name), "missing".to_string()),
        None => (field.to_string(), shorten(message)),
    };
    LoadError::Field {
        path: path.to_path_buf(),
        field: if field.is_empty() {
            TOP_LEVEL.to_string()
        } else {
            field
        },
        reason,
    }
}

/// The name in serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    let name = message.strip_prefix("missing field `")?.strip_suffix('`')?;
    (!name.is_empty()).then_some(name)
}

/// `prefix` and `below` joined into one field path; serde_path_to_error writes the
/// top level as `.`.
pub(super) fn join(prefix: &str, below: &str) -> String {
    let below = if below == "." { "" } else { below };
    match (prefix.is_empty(), below.is_empty()) {
        (_, true) => prefix.to_string(),
        (true, false) => below.to_string(),
        (false, false) if below.starts_with('[') => format!("{prefix}{below}"),
        (false, false) => format!("{prefix}.{below}"),
    }
}

/// `s`, cut to a readable length.
fn shorten(s: &str) -> String {
    if s.len() <= MAX_REASON {
        return s.to_string();
    }
    let mut end = MAX_REASON;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...({} chars)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Account {
        balance: U256,
    }

    fn err(json: Value, prefix: &str) -> String {
        let path = Path::new("f.json");
        from_value::<BTreeMap<Address, Account>>(&json, path, prefix)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_the_field_path() {
        let a = "0x00000000000000000000000000000000000000aa";
        let msg = err(serde_json::json!({ a: {"balance": true} }), "");
        assert!(
            msg.starts_with(&format!("f.json: {a}.balance: invalid type")),
            "{msg}"
        );
        let msg = err(serde_json::json!({ a: {} }), "x[2]");
        assert_eq!(msg, format!("f.json: x[2].{a}.balance: missing"));
        let msg = err(serde_json::json!([1]), "");
        assert!(
            msg.starts_with("f.json: (top level): invalid type"),
            "{msg}"
        );
        let long = "0x".to_string() + &"zz".repeat(500);
        let msg = err(serde_json::json!({ a: {"balance": long} }), "");
        assert!(msg.len() < 400 && msg.ends_with("chars)"), "{msg}");
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join("", "."), "");
        assert_eq!(join("transactions[1]", "."), "transactions[1]");
        assert_eq!(join("transactions", "[1].gas"), "transactions[1].gas");
        assert_eq!(join("transactions[1]", "gas"), "transactions[1].gas");
        assert_eq!(join("", "gas"), "gas");
    }
}
