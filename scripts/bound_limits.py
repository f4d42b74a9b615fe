#!/usr/bin/env python3
"""What the critical-path bounds of the bundled mainnet blocks could become with no
dependency at all, from `results/analyze.json` (`stmlab analyze ... --out`; the
committed file is under the default conflict model):

    python3 scripts/bound_limits.py [results/analyze.json]

Prints, over the mainnet blocks with transactions (numbered folders):
- the cost-weighted bound (total cost over the summed critical paths);
- the share of the critical path that is each block's largest transaction alone;
- the bound with no dependency (total cost over the summed largest transactions);
- the two-worker bound of the recorded schedule, and with no dependency
  (a block's makespan is at least max(total / 2, largest transaction));
- the blocks whose critical paths are longest.
"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "results/analyze.json"
d = json.load(open(path))
rows = [r for r in d["rows"] if r["kind"] == "block" and r["txs"] > 0 and r["block"].isdigit()]
if not rows:
    sys.exit(f"{path}: no mainnet block rows")
total = sum(r["total_cost_ns"] for r in rows)
cp = sum(r["critical_path_ns"] for r in rows)
largest = sum(r["max_cost_ns"] for r in rows)
two = sum(r["two_worker_makespan_ns"] for r in rows)
two_free = sum(max(r["total_cost_ns"] / 2, r["max_cost_ns"]) for r in rows)
print(f"{path}: {len(rows)} mainnet blocks, conflict model {d.get('conflicts')}")
print(f"cost-weighted bound:                  {total / cp:.2f}x")
print(f"largest transactions / critical path: {largest / cp:.0%}")
print(f"bound with no dependency:             {total / largest:.2f}x")
print(f"two-worker bound:                     {total / two:.2f}x")
print(f"two-worker bound with no dependency:  {total / two_free:.2f}x")
print("longest critical paths:")
for r in sorted(rows, key=lambda r: -r["critical_path_ns"])[:5]:
    print(f"  {r['block']}: {r['txs']} txs, bound {r['speedup_bound']:.2f}x, "
          f"critical path {r['critical_path_ns'] / 1e6:.2f} ms ({r['critical_path_ns'] / cp:.0%}), "
          f"largest transaction {r['max_cost_ns'] / 1e6:.2f} ms, "
          f"two-worker {r['two_worker_bound']:.2f}x")
