//! Field access with error paths: a JSON object being read knows its file and the path
//! of fields that lead to it, so every error names both.

use std::path::Path;

use serde_json::{Map, Value};

use super::LoadError;

/// A JSON object being read, with the file and the field path that lead to it.
pub(super) struct Obj<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) path: &'a Path,
    prefix: String,
}

impl<'a> Obj<'a> {
    /// `value` as an object, or an error for `field`.
    pub(super) fn new(value: &'a Value, path: &'a Path, prefix: String) -> Result<Self, LoadError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path, prefix }),
            other => Err(field_err(
                path,
                if prefix.is_empty() {
                    "(top level)"
                } else {
                    &prefix
                },
                format!("expected an object, got {}", describe(other)),
            )),
        }
    }

    pub(super) fn field(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub(super) fn err(&self, key: &str, reason: impl Into<String>) -> LoadError {
        field_err(self.path, &self.field(key), reason)
    }

    /// The value of `key`; absent and `null` are both `None`.
    pub(super) fn opt_value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn value(&self, key: &str) -> Result<&'a Value, LoadError> {
        self.opt_value(key).ok_or_else(|| self.err(key, "missing"))
    }

    pub(super) fn opt<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, LoadError> {
        match self.opt_value(key) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).map_err(|reason| self.err(key, reason)),
        }
    }

    pub(super) fn req<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<T, LoadError> {
        parse(self.value(key)?).map_err(|reason| self.err(key, reason))
    }

    /// The array under `key` (absent or `null` is empty when `required` is false).
    pub(super) fn array(&self, key: &str, required: bool) -> Result<&'a [Value], LoadError> {
        match self.opt_value(key) {
            None if required => Err(self.err(key, "missing")),
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.err(key, format!("expected an array, got {}", describe(other))))
            }
        }
    }
}

fn field_err(path: &Path, field: &str, reason: impl Into<String>) -> LoadError {
    LoadError::Field {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// A short description of a JSON value for error messages.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{:?}", shorten(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// `s`, cut to a readable length.
pub(super) fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...({} chars)", &s[..end], s.len())
    }
}
