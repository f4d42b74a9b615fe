//! Recording an EVM block, calibrated: the transactions through `EvmTxns` (`record`), the
//! sequential reference and the output assembly timed, and each parallel strategy's
//! phases measured at one thread against the uncalibrated simulation (`simulate`) of the
//! same recording. Above both, so neither imports the other.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use revm::DatabaseRef;
use stmlab::core::metrics::median;
use stmlab::core::phase::Phase;
use stmlab::error::{ExecuteError, Invariant};
use stmlab::evm::assemble::assemble;
use stmlab::evm::block::Block;
use stmlab::evm::executor::EvmTxns;
use stmlab::evm::location::Location;
use stmlab::{execute_block, execute_block_with, ConflictModel, Options, Strategy};

use crate::record::{
    finish_record, ns, record_txns, BlockRecord, CostModel, PhaseFactor, RecordOptions,
};

/// Records an EVM block on its pre-block state under the conflict model `conflicts`: the
/// transactions through `EvmTxns` (their read and write sets are the model's locations),
/// the sequential reference (`Strategy::Sequential`, plain revm, the same under every
/// model) and the output assembly, each the median of `passes` runs; the calibration runs
/// the production strategies under the same model.
pub fn record_block<P>(
    block: &Block,
    pre: &P,
    conflicts: ConflictModel,
    opts: &RecordOptions,
) -> Result<BlockRecord<Location>, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    let txns = EvmTxns::new(block, pre).with_conflicts(conflicts);
    let (records, results) = record_txns(&txns, opts)?;
    let passes = opts.passes.max(1);
    let mut seq = Vec::new();
    let mut asm = Vec::new();
    for _ in 0..passes {
        let start = Instant::now();
        black_box(execute_block(block, pre, Strategy::Sequential, 1)?);
        seq.push(ns(start));
        let input = results.clone();
        let start = Instant::now();
        black_box(assemble(
            block,
            pre,
            input.into_iter().map(|r| (r.writes, r.output)),
        )?);
        asm.push(ns(start));
    }
    let model = CostModel {
        sequential_ns: median(&mut seq),
        assemble_ns: median(&mut asm),
        ..CostModel::default()
    };
    let mut rec = finish_record(block.label.clone(), records, model, opts)?;
    if opts.strategy_costs {
        rec.model.calibration = calibrate_phases(&rec, block, pre, conflicts, passes)?;
    }
    Ok(rec)
}

/// The per-phase factors (see [`CostModel::calibration`]): every parallel strategy at one
/// thread under `conflicts`, `passes` rounds interleaved, phase times from the run's
/// metrics.
fn calibrate_phases<P>(
    rec: &BlockRecord<Location>,
    block: &Block,
    pre: &P,
    conflicts: ConflictModel,
    passes: usize,
) -> Result<Vec<PhaseFactor>, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    let strategies = [Strategy::Sv, Strategy::Dag, Strategy::BlockStm];
    let mut samples: HashMap<(Strategy, Phase), Vec<u64>> = HashMap::new();
    for _ in 0..passes.max(1) {
        for &s in &strategies {
            let options = Options {
                conflicts,
                ..Options::RAW
            };
            let run = execute_block_with(block, pre, s, 1, options)?;
            if run.metrics.fell_back.is_some() {
                return Err(Invariant::FellBackWhileCalibrating { strategy: s.name() }.into());
            }
            for (phase, d) in &run.metrics.phases {
                samples
                    .entry((s, *phase))
                    .or_default()
                    .push(d.as_nanos() as u64);
            }
        }
    }
    let mut factors = Vec::new();
    for &s in &strategies {
        let model = crate::simulate::simulate_uncalibrated(rec, s, 1)?;
        for (phase, model_ns) in model.phases {
            let measured_ns = samples.get_mut(&(s, phase)).map_or(0, |v| median(v));
            let factor = if model_ns > 0 && measured_ns > 0 {
                measured_ns as f64 / model_ns as f64
            } else {
                1.0
            };
            factors.push(PhaseFactor {
                strategy: s,
                phase,
                measured_ns,
                model_ns,
                factor,
            });
        }
    }
    Ok(factors)
}
