#!/usr/bin/env python3
"""Prints the report's tables (Markdown) from the result files in results/.

    python3 papers/make_tables.py            # reads results/sweep.json
    python3 papers/make_tables.py --ablation # section 8b's table, from results/ablation.json

Every number in papers/report.md's results section is printed by this script from
results/sweep.json, which `cargo run --release -- sweep` writes.
"""
import json
import statistics
import sys
from collections import defaultdict

def ablation_table(path="results/ablation.json"):
    """Section 8b's condensed ablation table (the columns the report keeps)."""
    a = json.load(open(path))
    m = a["machine"]
    print(f"Source: `{path}` (commit {m['commit']}{' + uncommitted changes' if a.get('tree_dirty') else ''}, "
          f"{m['cpu_model']}, {m['cores']} cores, {a['date_utc']}; {a['repeat']} timed rounds, "
          f"{a['passes']} recording passes)\n")
    print("| input | model | edges | dep % | bound | tx bound | 2-worker | sim 4 | sim 16 | meas 1 | meas 2 | execs/tx | aborts at 2 threads (kind) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in a["rows"]:
        name = r["input"]
        if r["kind"] == "blocks":
            name = f"{name} ({r['blocks']} blocks)" if r.get("blocks") else name
        else:
            kind, _, knobs = name.partition(":")
            kept = [k for k in knobs.split(",") if not k.startswith(("txs=", "accounts="))]
            name = f"{kind} {','.join(kept)}"
        no_edges = r["edges"] == 0
        sim = {s["workers"]: s["speedup"] for s in r["simulated"]}
        meas = {x["threads"]: x["speedup"] for x in r["measured"]}
        aborts = r["aborts_by_kind"]
        total = sum(aborts.values())
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(aborts.items()))
        cells = [
            name, r["conflicts"], f"{r['edges']:,}",
            "0" if no_edges else f"{100 * r['dependent_fraction']:.1f}",
            "–" if no_edges else f"{r['bound']:.2f}x",
            "–" if no_edges else f"{r['unweighted_bound']:.2f}x",
            f"{r['two_worker_bound']:.2f}x",
            f"{sim[4]:.2f}x", f"{sim[16]:.2f}x", f"{meas[1]:.2f}x", f"{meas[2]:.2f}x",
            f"{r['executions_per_tx']:.3f}",
            f"{total:,} ({kinds})" if total else "0",
        ]
        print("| " + " | ".join(cells) + " |")


if len(sys.argv) > 1 and sys.argv[1] == "--ablation":
    ablation_table(*sys.argv[2:3])
    sys.exit(0)

path = sys.argv[1] if len(sys.argv) > 1 else "results/sweep.json"
d = json.load(open(path))
m = d["machine"]
pts = d["points"]
strategies = [s for s in d["strategies"] if s != "sequential"]
threads = d["threads"]

print(f"Source: `{path}` (commit {m['commit']}{' + uncommitted changes' if d.get('commit_dirty') else ''}, "
      f"{m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB; preset {d['preset']}, "
      f"{d['repeat']} repeats, {d['elapsed_s']:.0f} s; {len(d['mismatches'])} mismatches with sequential)\n")

# 1. Workloads: speedup over sequential per strategy and thread count.
print("### Speedup over sequential on generated workloads (ratio of medians, same run)\n")
print("| workload | " + " | ".join(f"{s} @{t}" for s in strategies for t in threads) + " |")
print("|---|" + "---|" * (len(strategies) * len(threads)))
by = {(p["block"], p["strategy"], p["threads"]): p for p in pts}
labels = []
for p in pts:
    if p["source"] == "workload" and p["block"] not in labels:
        labels.append(p["block"])
for label in labels:
    cells = []
    for s in strategies:
        for t in threads:
            p = by.get((label, s, t))
            cells.append(f"{p['speedup_vs_sequential']:.2f}" if p else "-")
    print(f"| `{label}` | " + " | ".join(cells) + " |")

# 2. Wasted work.
print("\n### Executions per transaction (1.00 = nothing executed twice), at 2 threads\n")
print("| workload | " + " | ".join(strategies) + " |")
print("|---|" + "---|" * len(strategies))
for label in labels:
    cells = []
    for s in strategies:
        p = by.get((label, s, 2)) or by.get((label, s, threads[-1]))
        cells.append(f"{p['executions_per_tx']:.2f}" if p else "-")
    print(f"| `{label}` | " + " | ".join(cells) + " |")

# 3. Mainnet: total time and per-block distribution.
blocks = sorted({p["block"] for p in pts if p["source"] == "mainnet" and p["txs"] > 0}, key=lambda b: int(b) if b.isdigit() else 0)
if blocks:
    print(f"\n### Mainnet blocks ({len(blocks)} with transactions)\n")
    print("| strategy | threads | total time / sequential total | median block speedup | blocks faster than sequential | slowest block |")
    print("|---|---|---|---|---|---|")
    for s in strategies:
        for t in threads:
            ps = [by[(b, s, t)] for b in blocks if (b, s, t) in by]
            if not ps:
                continue
            total = sum(p["wall_ns"] for p in ps)
            seq_total = sum(p["sequential_wall_ns"] for p in ps)
            sp = [p["speedup_vs_sequential"] for p in ps]
            worst = min(ps, key=lambda p: p["speedup_vs_sequential"])
            print(f"| {s} | {t} | {seq_total / total:.2f}x | {statistics.median(sp):.2f}x | "
                  f"{sum(1 for x in sp if x > 1)}/{len(sp)} | {worst['speedup_vs_sequential']:.2f}x ({worst['block']}) |")

# 4. Peak memory at 2 threads relative to sequential, largest inputs.
print("\n### Peak heap during execution, relative to sequential (2 threads)\n")
print("| input | sequential MiB | " + " | ".join(strategies) + " |")
print("|---|---|" + "---|" * len(strategies))
for label in labels:
    seq = by.get((label, "sequential", 2))
    if not seq or not seq.get("peak_mem_bytes"):
        continue
    cells = []
    for s in strategies:
        p = by.get((label, s, 2))
        cells.append(f"{p['peak_mem_bytes'] / seq['peak_mem_bytes']:.2f}x" if p and p.get("peak_mem_bytes") else "-")
    print(f"| `{label}` | {seq['peak_mem_bytes'] / 2**20:.1f} | " + " | ".join(cells) + " |")

# 5. Noise: sequential timed against itself.
self_ratio = [p["speedup_vs_sequential"] for p in pts if p["strategy"] == "sequential"]
if self_ratio:
    print(f"\nNoise: sequential against itself in the same runs: median {statistics.median(self_ratio):.2f}x, "
          f"range {min(self_ratio):.2f}x to {max(self_ratio):.2f}x over {len(self_ratio)} points.")

# 6. Scaling: the critical-path bound and the simulator's agreement (section 6).
import os
if os.path.exists("results/analyze.json"):
    a = json.load(open("results/analyze.json"))
    print("\n### Critical-path bound (`results/analyze.json`)\n")
    print("| input | txs | speedup bound (total / critical path) | dependent fraction | longest chain (txs) |")
    print("|---|---|---|---|---|")
    for r in a["rows"]:
        if r["block"][0].isdigit():
            continue
        print(f"| `{r['block']}` | {r['txs']} | {r['speedup_bound']:.1f} | {r['dependent_fraction']:.2f} | {r['longest_chain_txs']} |")
if os.path.exists("results/simulate_check.json"):
    c = json.load(open("results/simulate_check.json"))
    print("\n### Simulator against measurement (`results/simulate_check.json`, error = predicted / measured - 1)\n")
    print("| input | strategy | threads | error of total time | median abs error per block |")
    print("|---|---|---|---|---|")
    for s in c["summary"]:
        if s["strategy"] == "sequential":
            continue
        print(f"| `{s['group']}` | {s['strategy']} | {s['threads']} | {s['error_of_total'] * 100:+.0f}% | {s['median_abs_error'] * 100:.0f}% |")
