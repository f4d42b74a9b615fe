//! Conflict models: which parts of the state are separate locations, and which changes
//! are recorded as commutative deltas. Every model is exact (the same output as
//! sequential execution); they differ in how many dependencies a block's transactions
//! have, so in how much of the block runs in parallel.

use std::fmt;
use std::str::FromStr;

/// How transactions' reads and writes of accounts become locations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictModel {
    /// An account's balance, nonce and code are one location; each storage slot is its
    /// own; the beneficiary's fees are deferred (each transaction writes its own).
    Coarse,
    /// `coarse`, with an account's balance, nonce and code (with its existence) as three
    /// locations; a balance or nonce an execution loaded but never used is not a read.
    Fields,
    /// `fields`, with balance credits whose execution never used the old balance
    /// recorded as commutative deltas: resolved only by a read that needs the full value.
    /// The default: on the bundled mainnet blocks it halves the dependency edges and the
    /// share of dependent transactions of `coarse` (`papers/report.md`, "Conflict
    /// models"), at no cost in measured time.
    #[default]
    Deltas,
}

impl ConflictModel {
    pub const ALL: [ConflictModel; 3] = [
        ConflictModel::Coarse,
        ConflictModel::Fields,
        ConflictModel::Deltas,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConflictModel::Coarse => "coarse",
            ConflictModel::Fields => "fields",
            ConflictModel::Deltas => "deltas",
        }
    }
}

impl fmt::Display for ConflictModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ConflictModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown conflict model {s:?} (expected coarse, fields or deltas)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for model in ConflictModel::ALL {
            assert_eq!(model.name().parse::<ConflictModel>(), Ok(model));
        }
        assert!("lazy".parse::<ConflictModel>().is_err());
    }
}
