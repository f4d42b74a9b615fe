//! The `--conflicts` argument: one conflict model (`stmlab::ConflictModel`: which parts of
//! an account are separate locations, and whether balance credits are commutative
//! deltas), or for the commands that compare them a comma-separated list or `all`.

use std::fmt;

use stmlab::ConflictModel;

/// A list of conflict models, in the order given, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Models(pub Vec<ConflictModel>);

impl Models {
    /// Every model (`all`).
    pub fn all() -> Self {
        Models(ConflictModel::ALL.to_vec())
    }

    /// The default model alone.
    pub fn default_only() -> Self {
        Models(vec![ConflictModel::default()])
    }
}

impl fmt::Display for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == ConflictModel::ALL {
            return f.write_str("all");
        }
        let names: Vec<&str> = self.0.iter().map(|m| m.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// `--conflicts` with one model: `coarse`, `fields` or `deltas`.
pub fn model_arg(text: &str) -> Result<ConflictModel, String> {
    text.trim().parse()
}

/// `--conflicts` with a list: `all`, or models separated by commas (each once).
pub fn models_arg(text: &str) -> Result<Models, String> {
    if text.trim() == "all" {
        return Ok(Models::all());
    }
    let mut list = Vec::new();
    for part in text.split(',') {
        let model = model_arg(part)?;
        if list.contains(&model) {
            return Err(format!("{model} is named twice"));
        }
        list.push(model);
    }
    Ok(Models(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_print_back() {
        assert_eq!(models_arg("all").unwrap(), Models::all());
        assert_eq!(models_arg("all").unwrap().to_string(), "all");
        let two = models_arg("deltas, coarse").unwrap();
        assert_eq!(two.0, vec![ConflictModel::Deltas, ConflictModel::Coarse]);
        assert_eq!(two.to_string(), "deltas,coarse");
        assert_eq!(
            Models::default_only().to_string(),
            ConflictModel::default().name()
        );
        assert!(models_arg("coarse,lazy").unwrap_err().contains("lazy"));
        assert!(models_arg("fields,fields").is_err());
        assert!(models_arg("").is_err());
        assert_eq!(model_arg("fields"), Ok(ConflictModel::Fields));
    }
}
