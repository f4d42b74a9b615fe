#!/usr/bin/env bash
# Instructions (valgrind's callgrind, which counts exactly where times do not) that
# Block-STM executes at 1 thread, over sequential's, on the two inputs of issue 12's
# deterministic measure: what `stmlab sweep --preset goals` reports in its instructions
# row, by the same method (`src/cli/instructions.rs`). Only the block's execution is
# counted (`engine::run_block`: not loading or generating the input); each strategy runs
# the block RUNS times through one kept executor (`stmlab exec`), as a node would (so
# per-thread code copies are made once, in the first).
#
#   bash scripts/callgrind_ratio.sh            # RUNS=3
#   RUNS=1 bash scripts/callgrind_ratio.sh     # the first block only
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
cargo build --release >&2
BIN=target/release/stmlab
OUT="$(mktemp -d)"
count() { # flag input strategy -> instructions inside run_block
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" \
    --toggle-collect='stmlab::engine::run_block*' \
    "$BIN" exec "$1" "$2" --strategy "$3" --threads 1 --runs "$RUNS" >/dev/null 2>&1
  callgrind_annotate "$OUT/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
printf '%-40s %15s %15s %7s\n' input sequential block-stm ratio
for arg in --workload=erc20:txs=2000,accounts=20000,hot=0 --block=data/mainnet/13217637; do
  flag="${arg%%=*}"; input="${arg#*=}"
  seq=$(count "$flag" "$input" sequential)
  bs=$(count "$flag" "$input" block-stm)
  awk -v i="$input" -v s="$seq" -v b="$bs" 'BEGIN { printf "%-40s %15s %15s %7.3f\n", i, s, b, b / s }'
done
rm -rf "$OUT"
