use std::time::Instant;
use stmlab::{ConflictModel, Executor, Options, Strategy};
fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2);
    let mut dirs: Vec<_> = std::fs::read_dir("data/mainnet")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut blocks: Vec<_> = dirs
        .iter()
        .filter_map(|d| stmlab::evm::mainnet::load_block_dir(d).ok())
        .filter(|(b, _)| !b.txs.is_empty())
        .collect();
    for spec in ["transfers:txs=10000,accounts=100000,hot=0.3"] {
        let s = stmlab_workloads::WorkloadSpec::parse(spec).unwrap();
        blocks.push(stmlab_workloads::generate(&s).unwrap());
    }
    let execs: Vec<_> = ConflictModel::ALL
        .iter()
        .map(|&m| {
            Executor::with_options(
                threads,
                Options {
                    conflicts: m,
                    ..Options::RAW
                },
            )
            .unwrap()
        })
        .collect();
    let seq = Executor::with_options(1, Options::RAW).unwrap();
    let reps = 7;
    let mut mainnet = vec![0u128; 4];
    for (bi, (b, s)) in blocks.iter().enumerate() {
        let mut t = vec![Vec::new(); 4];
        for _ in 0..reps {
            let st = Instant::now();
            seq.execute(b, s, Strategy::Sequential).unwrap();
            t[0].push(st.elapsed().as_nanos());
            for (i, e) in execs.iter().enumerate() {
                let st = Instant::now();
                let r = e.execute(b, s, Strategy::BlockStm).unwrap();
                t[i + 1].push(st.elapsed().as_nanos());
                assert!(r.metrics.fell_back.is_none());
            }
        }
        let med: Vec<u128> = t
            .iter_mut()
            .map(|v| {
                v.sort();
                v[v.len() / 2]
            })
            .collect();
        if bi < blocks.len() - 1 {
            for i in 0..4 {
                mainnet[i] += med[i];
            }
        } else {
            println!(
                "{}: coarse {:.2} fields {:.2} deltas {:.2}",
                b.label,
                med[0] as f64 / med[1] as f64,
                med[0] as f64 / med[2] as f64,
                med[0] as f64 / med[3] as f64
            );
        }
    }
    println!(
        "mainnet total at {threads} threads: coarse {:.2} fields {:.2} deltas {:.2}",
        mainnet[0] as f64 / mainnet[1] as f64,
        mainnet[0] as f64 / mainnet[2] as f64,
        mainnet[0] as f64 / mainnet[3] as f64
    );
}
