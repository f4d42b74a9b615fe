//! Workload specs: `name:key=value,...`, e.g. `transfers:txs=10000,accounts=100000,hot=0.1`.

use std::collections::BTreeMap;

/// A parsed spec: a workload name and its knobs. Unknown knobs are an error, so a typo
/// never runs a different workload than the one asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    pub name: String,
    knobs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("workload spec {0:?}: expected name:key=value,...")]
    Syntax(String),
    #[error("workload {workload}: knob {knob}={value:?} is not a valid {expected}")]
    BadValue {
        workload: String,
        knob: String,
        value: String,
        expected: &'static str,
    },
    #[error("workload {workload}: unknown knob {knob:?} (known: {known})")]
    UnknownKnob {
        workload: String,
        knob: String,
        known: String,
    },
    #[error("unknown workload {0:?} (known: transfers, erc20, chain, amm, compute, mixed)")]
    UnknownWorkload(String),
    #[error("workload {workload}: {reason}")]
    Invalid { workload: String, reason: String },
}

impl WorkloadSpec {
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let text = text.trim();
        let (name, rest) = text.split_once(':').unwrap_or((text, ""));
        if name.is_empty() || name.contains('=') {
            return Err(SpecError::Syntax(text.into()));
        }
        let mut knobs = BTreeMap::new();
        for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| SpecError::Syntax(text.into()))?;
            knobs.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(Self {
            name: name.to_string(),
            knobs,
        })
    }

    /// Errors on a knob not in `known`.
    pub fn check_knobs(&self, known: &[&str]) -> Result<(), SpecError> {
        match self.knobs.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(SpecError::UnknownKnob {
                workload: self.name.clone(),
                knob: k.clone(),
                known: known.join(", "),
            }),
            None => Ok(()),
        }
    }

    pub fn usize(&self, knob: &str, default: usize) -> Result<usize, SpecError> {
        self.get(knob, default, "whole number")
    }

    /// A whole number, or `None` when the knob is not given.
    pub fn optional_usize(&self, knob: &str) -> Result<Option<usize>, SpecError> {
        match self.knobs.get(knob) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| self.bad(knob, "whole number")),
        }
    }

    pub fn u64(&self, knob: &str, default: u64) -> Result<u64, SpecError> {
        self.get(knob, default, "whole number")
    }

    /// A fraction in [0, 1].
    pub fn fraction(&self, knob: &str, default: f64) -> Result<f64, SpecError> {
        let v: f64 = self.get(knob, default, "fraction between 0 and 1")?;
        if !(0.0..=1.0).contains(&v) {
            return Err(self.bad(knob, "fraction between 0 and 1"));
        }
        Ok(v)
    }

    fn get<T: std::str::FromStr>(
        &self,
        knob: &str,
        default: T,
        expected: &'static str,
    ) -> Result<T, SpecError> {
        match self.knobs.get(knob) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| self.bad(knob, expected)),
        }
    }

    fn bad(&self, knob: &str, expected: &'static str) -> SpecError {
        SpecError::BadValue {
            workload: self.name.clone(),
            knob: knob.into(),
            value: self.knobs.get(knob).cloned().unwrap_or_default(),
            expected,
        }
    }

    pub fn invalid(&self, reason: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            workload: self.name.clone(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_knobs() {
        let s = WorkloadSpec::parse("erc20:txs=5000, accounts=2000,hot=0.1").unwrap();
        assert_eq!(s.name, "erc20");
        assert_eq!(s.usize("txs", 1).unwrap(), 5000);
        assert_eq!(s.usize("accounts", 1).unwrap(), 2000);
        assert_eq!(s.fraction("hot", 0.0).unwrap(), 0.1);
        assert_eq!(s.usize("seed", 7).unwrap(), 7);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(WorkloadSpec::parse("").is_err());
        assert!(WorkloadSpec::parse("chain:txs").is_err());
        let s = WorkloadSpec::parse("chain:txs=abc").unwrap();
        assert!(matches!(s.usize("txs", 1), Err(SpecError::BadValue { .. })));
        let s = WorkloadSpec::parse("transfers:hot=1.5").unwrap();
        assert!(s.fraction("hot", 0.0).is_err());
        let s = WorkloadSpec::parse("transfers:txz=1").unwrap();
        assert!(matches!(
            s.check_knobs(&["txs"]),
            Err(SpecError::UnknownKnob { .. })
        ));
    }
}
