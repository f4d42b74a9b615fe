//! The words and numbers the plots print: tick labels, the knobs a title names, and the
//! file names made from input labels.

/// `1234567` as `1.23M`, `45000` as `45k`.
pub fn human(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x.abs() >= 100.0 || x.fract().abs() < 1e-9 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{unit}")
}

/// A file name part from an input label: `transfers:txs=10,hot=0.1` → `transfers_txs-10_hot-0.1`.
pub fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            '=' => '-',
            _ => '_',
        })
        .collect()
}

/// Tick labels of the y axes: a speedup (`1.5×`), a count (`human`), executions per
/// transaction (`1.05`), a share (`40%`).
pub fn fmt_speedup(v: f64) -> String {
    format!("{v:.1}×")
}

pub fn fmt_plain(v: f64) -> String {
    human(v)
}

pub fn fmt_execs(v: f64) -> String {
    format!("{v:.2}")
}

pub fn fmt_percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// The knobs every label of a series shares, for the title: ` (txs=10000, accounts=100000)`.
pub fn fixed_knobs(labels: &[String]) -> String {
    let sets: Vec<Vec<&str>> = labels
        .iter()
        .map(|l| l.split_once(':').map_or("", |x| x.1).split(',').collect())
        .collect();
    let Some(first) = sets.first() else {
        return String::new();
    };
    let common: Vec<&str> = first
        .iter()
        .copied()
        .filter(|k| !k.is_empty() && sets.iter().all(|s| s.contains(k)))
        .collect();
    if common.is_empty() {
        String::new()
    } else {
        format!(" ({})", common.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(human(1_234_567.0), "1.23M");
        assert_eq!(human(45_000.0), "45k");
        assert_eq!(human(100.0), "100");
        assert_eq!(human(0.5), "0.5");
    }

    #[test]
    fn slugs_and_knobs() {
        assert_eq!(slug("erc20:txs=5,hot=0.1"), "erc20_txs-5_hot-0.1");
        let labels = vec![
            "t:txs=10,accounts=5,hot=0".to_string(),
            "t:txs=10,accounts=5,hot=0.3".to_string(),
        ];
        assert_eq!(fixed_knobs(&labels), " (txs=10, accounts=5)");
    }
}
