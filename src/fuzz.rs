//! `stmlab fuzz`: mutated copies of real block folders through the loader `stmlab run`
//! uses (`evm::mainnet::load_block_dir`), each case ending either in a clear error (one
//! that names a file of the folder, and for a bad field the field) or in a block that
//! every strategy executes exactly as sequential does. A panic, a hang (a case that takes
//! longer than `--case-seconds`), an unclear error or a mismatch is a failure: exit status
//! 1, with the seed that reproduces the case.
//!
//! Case `i` uses seed `seed + i` for everything it draws (the source folder, the file, the
//! mutation and where it strikes), so `--cases 1 --seed <that seed>` makes the same case.
//! Mutations work on the decompressed text of one file (truncation, bit flips, an empty
//! file, bytes spliced from elsewhere), on its parsed JSON (a value replaced by one of
//! another type, a huge or negative number, bad hex, an empty string, deep nesting; a
//! field removed or duplicated; an array entry duplicated), or on the folder (a file
//! missing, two files' contents swapped, a `spec.txt` with a bad or a real fork name).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use super::conflicts::{models_arg, Models};
use super::machine::Machine;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir, LoadError};
use stmlab::{Executor, Options, Strategy};

#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// Block folders to mutate (a block folder or a folder of them; repeatable).
    #[arg(long, required = true)]
    pub block: Vec<PathBuf>,
    /// How many cases.
    #[arg(long, default_value_t = 1000)]
    pub cases: u64,
    /// The first case's seed; case i uses seed + i.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A case longer than this is a hang.
    #[arg(long, default_value_t = 30.0)]
    pub case_seconds: f64,
    /// Sources with more than this many bytes of JSON are skipped (large pre-states make
    /// every case slow).
    #[arg(long, default_value_t = 400_000)]
    pub max_source_bytes: usize,
    /// Conflict models every case is executed under: one, a comma-separated list, or all.
    #[arg(long, default_value_t = Models::all(), value_parser = models_arg)]
    pub conflicts: Models,
    /// Write the summary as JSON here (e.g. results/fuzz.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FuzzFailure {
    pub kind: &'static str,
    pub seed: u64,
    pub source: String,
    pub mutation: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct FuzzSummary {
    pub machine: Machine,
    pub command: String,
    pub sources: Vec<String>,
    /// The conflict models every executed case ran under.
    pub conflicts: Vec<stmlab::ConflictModel>,
    pub first_seed: u64,
    pub cases: u64,
    /// Cases the loader rejected with a clear error.
    pub rejected: u64,
    /// Cases that loaded and executed identically under every strategy.
    pub executed: u64,
    /// Rejections by the kind of error.
    pub rejections_by_kind: Vec<(String, u64)>,
    pub panics: u64,
    pub hangs: u64,
    pub unclear_errors: u64,
    pub mismatches: u64,
    pub seconds: f64,
    pub failures: Vec<FuzzFailure>,
}

/// One source block folder, its files' decompressed text.
struct Source {
    label: String,
    files: Vec<(String, Vec<u8>)>,
}

const FILES: [&str; 4] = [
    "block.json",
    "pre_state.json",
    "bytecodes.json",
    "block_hashes.json",
];

fn load_source(dir: &Path) -> Result<Source, String> {
    let mut files = Vec::new();
    for name in FILES {
        let plain = dir.join(name);
        let gz = dir.join(format!("{name}.gz"));
        let bytes = if plain.is_file() {
            fs::read(&plain).map_err(|e| format!("{}: {e}", plain.display()))?
        } else {
            let compressed = fs::read(&gz).map_err(|e| format!("{}: {e}", gz.display()))?;
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&compressed[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("{}: {e}", gz.display()))?;
            out
        };
        files.push((name.to_string(), bytes));
    }
    let spec = dir.join(stmlab::evm::mainnet::SPEC_FILE);
    if spec.is_file() {
        let text = fs::read(&spec).map_err(|e| format!("{}: {e}", spec.display()))?;
        files.push((stmlab::evm::mainnet::SPEC_FILE.to_string(), text));
    }
    let label = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    Ok(Source { label, files })
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Applies one mutation to the files; returns its description.
fn mutate(files: &mut Vec<(String, Vec<u8>)>, rng: &mut Rng) -> String {
    let f = rng.below(files.len());
    let name = files[f].0.clone();
    match rng.below(12) {
        0 => {
            let cut = rng.below(files[f].1.len());
            files[f].1.truncate(cut);
            format!("{name}: truncated to {cut} bytes")
        }
        1 => {
            let n = 1 + rng.below(8);
            for _ in 0..n {
                if files[f].1.is_empty() {
                    break;
                }
                let at = rng.below(files[f].1.len());
                files[f].1[at] ^= 1 << rng.below(8);
            }
            format!("{name}: {n} bit flips")
        }
        2 => {
            files[f].1.clear();
            format!("{name}: emptied")
        }
        3 => {
            files.remove(f);
            format!("{name}: removed")
        }
        4 => {
            let g = rng.below(files.len());
            let other = files[g].1.clone();
            let mine = std::mem::replace(&mut files[f].1, other);
            files[g].1 = mine;
            format!("{name} and {}: contents swapped", files[g].0)
        }
        5 => {
            let spec = match rng.below(4) {
                0 => "Osaka-ish",
                1 => "",
                2 => "London",
                _ => "Frontier",
            };
            files.retain(|(n, _)| n != stmlab::evm::mainnet::SPEC_FILE);
            files.push((
                stmlab::evm::mainnet::SPEC_FILE.into(),
                spec.as_bytes().to_vec(),
            ));
            format!("spec.txt: {spec:?}")
        }
        6 => {
            // Bytes spliced in from elsewhere in the file.
            let bytes = &mut files[f].1;
            if bytes.len() > 2 {
                let from = rng.below(bytes.len());
                let len = 1 + rng.below(64.min(bytes.len() - from));
                let chunk: Vec<u8> = bytes[from..from + len].to_vec();
                let at = rng.below(bytes.len());
                bytes.splice(at..at, chunk);
            }
            format!("{name}: bytes spliced")
        }
        _ => match serde_json::from_slice::<Value>(&files[f].1) {
            Ok(mut json) => {
                let what = mutate_json(&mut json, rng);
                let mut text = serde_json::to_vec(&json).unwrap_or_default();
                if what.starts_with("duplicated field") {
                    text = duplicate_first_field(&text);
                }
                files[f].1 = text;
                format!("{name}: {what}")
            }
            Err(_) => {
                let half = files[f].1.len() / 2;
                files[f].1.truncate(half);
                format!("{name}: (not JSON) halved")
            }
        },
    }
}

/// A value to put where another was.
fn replacement(rng: &mut Rng) -> (Value, &'static str) {
    let huge = format!("0x{}", "f".repeat(65 + rng.below(40)));
    match rng.below(12) {
        0 => (Value::Null, "null"),
        1 => (Value::Bool(true), "a boolean"),
        2 => (Value::from(-1), "a negative number"),
        3 => (Value::from(u64::MAX), "the largest u64 as a number"),
        4 => (Value::from(1.5e300), "a huge float"),
        5 => (Value::String(huge), "a hex number of more than 256 bits"),
        6 => (Value::String("0xzz".into()), "bad hex"),
        7 => (Value::String("0x123".into()), "odd-length hex"),
        8 => (Value::String(String::new()), "an empty string"),
        9 => (Value::Array(vec![Value::from(1)]), "an array"),
        10 => (Value::Object(Default::default()), "an empty object"),
        _ => {
            let mut v = Value::from(0);
            for _ in 0..(20 + rng.below(200)) {
                v = Value::Array(vec![v]);
            }
            (v, "deep nesting")
        }
    }
}

/// Mutates one value somewhere in `json`, walking down from the root at random.
fn mutate_json(json: &mut Value, rng: &mut Rng) -> String {
    let mut path = String::new();
    let mut node = json;
    loop {
        let descend = rng.below(4) != 0;
        let children = match node {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if children == 0 || !descend {
            break;
        }
        let i = rng.below(children);
        // Structural mutations at this level, sometimes.
        if rng.below(6) == 0 {
            match node {
                Value::Object(m) => {
                    let key = m.keys().nth(i).cloned().unwrap_or_default();
                    if rng.below(2) == 0 {
                        m.remove(&key);
                        return format!("removed field {path}.{key}");
                    }
                    return "duplicated field (the file's first)".to_string();
                }
                Value::Array(a) => {
                    let copy = a[i].clone();
                    a.insert(i, copy);
                    return format!("duplicated entry {path}[{i}]");
                }
                _ => unreachable!("has children"),
            }
        }
        node = match node {
            Value::Object(m) => {
                let key = m.keys().nth(i).cloned().unwrap_or_default();
                path.push('.');
                path.push_str(&key);
                m.get_mut(&key).expect("key exists")
            }
            Value::Array(a) => {
                path.push_str(&format!("[{i}]"));
                &mut a[i]
            }
            _ => unreachable!("has children"),
        };
    }
    let (value, what) = replacement(rng);
    *node = value;
    format!(
        "{} at {}",
        what,
        if path.is_empty() { "the root" } else { &path }
    )
}

/// The JSON text with its first object field written twice (serde_json's maps cannot
/// hold a duplicate, so it is made in the text).
fn duplicate_first_field(text: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(text);
    // The first `"key":value` after the first `{`, value up to the next `,` or `}` at depth 0.
    let Some(open) = s.find('{') else {
        return text.to_vec();
    };
    let rest = &s[open + 1..];
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in rest.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' if depth == 0 => {
                end = Some(i);
                break;
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end.filter(|&e| e > 0) else {
        return text.to_vec();
    };
    let field = &rest[..end];
    format!("{}{{{field},{}", &s[..open], rest).into_bytes()
}

/// How a case ended.
enum CaseEnd {
    Rejected(String, LoadError),
    /// The block loaded but breaks a consensus rule (e.g. a Prague block without the
    /// EIP-7002 contract): sequential and every strategy said so, alike.
    Invalid,
    Executed,
    Mismatch(String),
}

/// Writes the case's files into `dir` and runs it.
fn run_case(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    executors: &[Executor],
) -> Result<CaseEnd, String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes)
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
    }
    let (block, state) = match load_block_dir(dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            let kind = match &e {
                LoadError::Io { .. } => "io",
                LoadError::MissingFile { .. } => "missing file",
                LoadError::Json { .. } => "malformed JSON",
                LoadError::Field { .. } => "bad field",
                LoadError::UnknownSpec { .. } => "unknown fork",
                LoadError::NoBlocks { .. } => "no block",
            };
            return Ok(CaseEnd::Rejected(kind.to_string(), e));
        }
    };
    let reference = stmlab::execute_block(&block, &state, Strategy::Sequential, 1);
    if let Err(stmlab::ExecuteError::InvalidBlock(invalid)) = &reference {
        let invalid = invalid.to_string();
        for executor in executors {
            let model = executor.options().conflicts;
            for strategy in [Strategy::Sv, Strategy::Dag, Strategy::BlockStm] {
                match executor.execute(&block, &state, strategy) {
                    Err(stmlab::ExecuteError::InvalidBlock(got)) if got.to_string() == invalid => {}
                    other => {
                        return Ok(CaseEnd::Mismatch(format!(
                            "{strategy} ({model} conflicts): sequential found the block invalid ({invalid}), {strategy} gave {:?}",
                            other.map(|_| "an output").map_err(|e| e.to_string())
                        )))
                    }
                }
            }
        }
        return Ok(CaseEnd::Invalid);
    }
    for (executor, strategy) in executors
        .iter()
        .flat_map(|e| [Strategy::Sv, Strategy::Dag, Strategy::BlockStm].map(|s| (e, s)))
    {
        let model = executor.options().conflicts;
        let got = executor.execute(&block, &state, strategy);
        let difference = match (&reference, &got) {
            (Ok(_), Ok(b)) if b.metrics.fell_back.is_some() => Some(format!(
                "fell back to sequential: {}",
                b.metrics
                    .fell_back
                    .as_ref()
                    .map(|w| w.to_string())
                    .unwrap_or_default()
            )),
            (Ok(a), Ok(b)) => a.output.first_difference(&b.output),
            // A block that loaded must execute: the in-memory state cannot fail a read.
            (Err(a), _) => Some(format!("sequential execution failed: {a}")),
            (a, b) => Some(format!(
                "sequential gave {:?}, {strategy} gave {:?}",
                a.as_ref().map(|_| "an output"),
                b.as_ref().map(|_| "an output")
            )),
        };
        if let Some(d) = difference {
            return Ok(CaseEnd::Mismatch(format!(
                "{strategy} ({model} conflicts): {d}"
            )));
        }
    }
    Ok(CaseEnd::Executed)
}

pub fn run(args: &FuzzArgs) -> Result<bool, String> {
    // The machine and commit as the run starts (a long run may outlast the commit).
    let machine = Machine::detect();
    if args.cases == 0 {
        return Err("--cases must be at least 1".into());
    }
    if !(args.case_seconds > 0.0 && args.case_seconds.is_finite()) {
        return Err("--case-seconds must be a positive number".into());
    }
    let mut sources = Vec::new();
    for path in &args.block {
        for dir in find_block_dirs(path).map_err(|e| e.to_string())? {
            let source = load_source(&dir)?;
            let size: usize = source.files.iter().map(|(_, b)| b.len()).sum();
            if size <= args.max_source_bytes {
                sources.push(source);
            }
        }
    }
    if sources.is_empty() {
        return Err(format!(
            "no block folder of at most {} bytes of JSON under the given --block paths",
            args.max_source_bytes
        ));
    }
    let labels: Vec<String> = sources.iter().map(|s| s.label.clone()).collect();
    let root = std::env::temp_dir().join(format!("stmlab-fuzz-{}", std::process::id()));
    let case_limit = Duration::from_secs_f64(args.case_seconds);

    // Cases run on a worker thread, so that one that hangs is reported, not waited for.
    type Job = (u64, Vec<(String, Vec<u8>)>);
    type Reply = std::thread::Result<Result<CaseEnd, String>>;
    let models = args.conflicts.0.clone();
    let start_worker =
        |root: PathBuf| -> Result<(mpsc::Sender<Job>, mpsc::Receiver<Reply>), String> {
            let models = models.clone();
            let (job_tx, job_rx) = mpsc::channel::<Job>();
            let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
            std::thread::Builder::new()
                .name("fuzz-case".into())
                .spawn(move || {
                    // One executor per model (cases are small: their pools sleeping
                    // between runs costs little).
                    let executors: Result<Vec<Executor>, _> = models
                        .iter()
                        .map(|&conflicts| {
                            Executor::with_options(
                                2,
                                Options {
                                    conflicts,
                                    ..Options::RAW
                                },
                            )
                        })
                        .collect();
                    let Ok(executors) = executors else {
                        return;
                    };
                    for (seed, files) in job_rx {
                        let dir = root.join(format!("case-{seed}"));
                        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run_case(&dir, &files, &executors)
                        }));
                        let _ = fs::remove_dir_all(&dir);
                        if reply_tx.send(reply).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| format!("could not start the fuzz worker: {e}"))?;
            Ok((job_tx, reply_rx))
        };
    let (mut jobs, mut replies) = start_worker(root.clone())?;
    let started = Instant::now();
    let (mut rejected, mut executed, mut panics, mut hangs, mut unclear, mut mismatches) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut kinds: std::collections::BTreeMap<String, u64> = Default::default();
    let mut failures = Vec::new();
    for i in 0..args.cases {
        let seed = args.seed.wrapping_add(i);
        let mut rng = Rng(seed);
        let s = rng.below(sources.len());
        let mut files = sources[s].files.clone();
        let mut mutation = mutate(&mut files, &mut rng);
        // Now and then a second mutation on top.
        if rng.below(4) == 0 {
            mutation = format!("{mutation}; {}", mutate(&mut files, &mut rng));
        }
        let fail = |kind, detail: String| FuzzFailure {
            kind,
            seed,
            source: labels[s].clone(),
            mutation: mutation.clone(),
            detail,
        };
        jobs.send((seed, files))
            .map_err(|_| "the fuzz worker stopped".to_string())?;
        let failure = match replies.recv_timeout(case_limit) {
            Ok(Ok(Ok(CaseEnd::Executed))) => {
                executed += 1;
                None
            }
            // A clear error too, from execution rather than loading.
            Ok(Ok(Ok(CaseEnd::Invalid))) => {
                rejected += 1;
                *kinds.entry("invalid block".to_string()).or_default() += 1;
                None
            }
            Ok(Ok(Ok(CaseEnd::Rejected(kind, e)))) => {
                let message = e.to_string();
                let dir = root.join(format!("case-{seed}"));
                let names_file = message.starts_with(&dir.display().to_string());
                let names_field = !matches!(&e, LoadError::Field { field, .. } if field.is_empty());
                if names_file && names_field {
                    rejected += 1;
                    *kinds.entry(kind).or_default() += 1;
                    None
                } else {
                    unclear += 1;
                    Some(fail("unclear error", message))
                }
            }
            Ok(Ok(Ok(CaseEnd::Mismatch(d)))) => {
                mismatches += 1;
                Some(fail("mismatch", d))
            }
            Ok(Ok(Err(io))) => return Err(io),
            Ok(Err(payload)) => {
                panics += 1;
                let what = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into());
                Some(fail("panic", what))
            }
            Err(_) => {
                hangs += 1;
                // The stuck worker is abandoned; a fresh one takes the next case.
                (jobs, replies) = start_worker(root.clone())?;
                Some(fail(
                    "hang",
                    format!("no end after {:.0} s", args.case_seconds),
                ))
            }
        };
        if let Some(f) = failure {
            eprintln!(
                "{} (case {i}, seed {seed}, from block {}): {}: {}\n  reproduce: cargo run --release -- fuzz --block {} --max-source-bytes {} --conflicts {} --cases 1 --seed {seed}",
                f.kind.to_uppercase(),
                f.source,
                f.mutation,
                f.detail,
                args.block.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" --block "),
                args.max_source_bytes,
                args.conflicts
            );
            failures.push(f);
        }
    }
    drop(jobs);
    let _ = fs::remove_dir_all(&root);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "fuzz: {} cases from {} block folders in {seconds:.1} s: {rejected} rejected with a clear error, {executed} executed identically by every strategy",
        args.cases,
        labels.len()
    );
    for (kind, n) in &kinds {
        println!("  rejected, {kind}: {n}");
    }
    println!(
        "panics: {panics}, hangs: {hangs}, unclear errors: {unclear}, mismatches: {mismatches}"
    );
    let ok = failures.is_empty();
    if let Some(out) = &args.out {
        let summary = FuzzSummary {
            machine,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            sources: labels,
            conflicts: args.conflicts.0.clone(),
            first_seed: args.seed,
            cases: args.cases,
            rejected,
            executed,
            rejections_by_kind: kinds.into_iter().collect(),
            panics,
            hangs,
            unclear_errors: unclear,
            mismatches,
            seconds,
            failures,
        };
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
        fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ok)
}
