//! The one interleaved measurement of the tooling: several runs (slots) timed over
//! `repeat` rounds, each slot once per round, so that whatever drifts while they run (the
//! host's load, the clock speed, the allocator's and the caches' state) falls on all of
//! them alike; each slot's samples are then summarised by their median
//! ([`stmlab::core::metrics::median`]).
//!
//! `stmlab run` and `sweep` (through `compare`), the goals' baseline row, the machine's
//! ceiling and `simulate --check` all measure through [`interleaved`].

use std::time::Instant;

use stmlab::core::metrics::median;

/// The order of the slots within a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// The first `fixed_first` slots run first in every round, in their order (a baseline
    /// taken at the start of every round); the others follow, their order rotated by one
    /// from round to round, so none of them always runs first or always after the same one.
    pub fixed_first: usize,
}

impl Order {
    /// Every slot's place rotates from round to round.
    pub const ROTATING: Order = Order { fixed_first: 0 };
    /// The same order in every round.
    pub const FIXED: Order = Order {
        fixed_first: usize::MAX,
    };

    /// The slots of round `round`, in the order they run.
    fn round(self, slots: usize, round: usize) -> impl Iterator<Item = usize> {
        let fixed = self.fixed_first.min(slots);
        let rotated = slots - fixed;
        (0..fixed).chain((0..rotated).map(move |k| fixed + (k + round) % rotated))
    }
}

/// What a slot's run is handed: the part of the run it times is that run's sample.
pub struct Stopwatch {
    ns: Option<u64>,
}

impl Stopwatch {
    /// Runs `f` on the clock. Its result is returned, so whatever the caller does with it
    /// (checking an output, dropping it) is not timed unless done inside `f`.
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.ns = Some(start.elapsed().as_nanos() as u64);
        out
    }
}

/// Runs `slots` slots over `repeat` rounds (at least one), every slot once per round in
/// the `order` given: `run(slot, stopwatch)` runs slot `slot` once and times, with the
/// stopwatch, the part that counts. Returns each slot's samples in nanoseconds, in the
/// order taken; the first error stops the measurement.
pub fn interleaved<E>(
    slots: usize,
    repeat: usize,
    order: Order,
    mut run: impl FnMut(usize, &mut Stopwatch) -> Result<(), E>,
) -> Result<Vec<Vec<u64>>, E> {
    let rounds = repeat.max(1);
    let mut samples = vec![Vec::with_capacity(rounds); slots];
    for round in 0..rounds {
        for slot in order.round(slots, round) {
            let mut stopwatch = Stopwatch { ns: None };
            run(slot, &mut stopwatch)?;
            let ns = stopwatch
                .ns
                .expect("a run of an interleaved measurement times its work");
            samples[slot].push(ns);
        }
    }
    Ok(samples)
}

/// One slot's samples summarised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    pub median: u64,
    /// The fastest and the slowest run.
    pub min: u64,
    pub max: u64,
    pub runs: usize,
}

impl Spread {
    /// The median, fastest and slowest of `samples` (sorting them; all 0 for none).
    pub fn of(samples: &mut [u64]) -> Self {
        let median = median(samples);
        Self {
            median,
            min: samples.first().copied().unwrap_or(0),
            max: samples.last().copied().unwrap_or(0),
            runs: samples.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orders(order: Order, slots: usize, rounds: usize) -> Vec<Vec<usize>> {
        (0..rounds)
            .map(|r| order.round(slots, r).collect())
            .collect()
    }

    #[test]
    fn rotating_order_moves_every_slot() {
        assert_eq!(
            orders(Order::ROTATING, 3, 4),
            [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]
        );
        assert_eq!(orders(Order::ROTATING, 2, 2), [[0, 1], [1, 0]]);
    }

    #[test]
    fn fixed_slots_run_first_in_every_round() {
        let baseline_first = Order { fixed_first: 1 };
        assert_eq!(
            orders(baseline_first, 4, 3),
            [[0, 1, 2, 3], [0, 2, 3, 1], [0, 3, 1, 2]]
        );
        assert_eq!(orders(Order::FIXED, 2, 2), [[0, 1], [0, 1]]);
        assert_eq!(orders(baseline_first, 1, 2), [[0], [0]]);
    }

    #[test]
    fn every_slot_gets_one_sample_per_round() {
        let mut ran = Vec::new();
        let samples = interleaved(3, 2, Order::ROTATING, |slot, clock| {
            ran.push(slot);
            clock.time(|| ());
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(ran, [0, 1, 2, 1, 2, 0]);
        assert!(samples.iter().all(|s| s.len() == 2));
        let failed = interleaved(2, 3, Order::ROTATING, |slot, clock| match slot {
            1 => Err("slot 1 failed"),
            _ => Ok(clock.time(|| ())),
        });
        assert_eq!(failed, Err("slot 1 failed"));
    }

    #[test]
    fn spread_is_median_fastest_and_slowest() {
        let s = Spread::of(&mut [30, 10, 20, 50]);
        assert_eq!(
            s,
            Spread {
                median: 30,
                min: 10,
                max: 50,
                runs: 4
            }
        );
    }
}
