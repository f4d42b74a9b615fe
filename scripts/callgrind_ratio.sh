#!/usr/bin/env bash
# Instructions (valgrind's callgrind, which counts exactly where times do not) that
# Block-STM executes at 1 thread, over sequential's, on the two inputs of issue 12's
# deterministic measure: what `stmlab sweep --preset goals` reports in its instructions
# row, by the same method (`src/instructions.rs`). Only the block's execution is
# counted (`engine::run_block`: not loading or generating the input); each strategy runs
# the block RUNS times through one kept executor (`stmlab exec`), as a node would (so
# per-thread code copies are made once, in the first).
#
#   bash scripts/callgrind_ratio.sh            # RUNS=3
#   RUNS=1 bash scripts/callgrind_ratio.sh     # the first block only
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
cargo build --release >&2
BIN=target/release/stmlab
OUT="$(mktemp -d)"
count() { # flag input strategy -> instructions inside run_block (fails loudly)
  local file="$OUT/cg.$3.$RANDOM.out"
  if ! valgrind --tool=callgrind --callgrind-out-file="$file" \
      --toggle-collect='stmlab::engine::run_block*' \
      "$BIN" exec "$1" "$2" --strategy "$3" --threads 1 --runs "$RUNS" >"$OUT/log" 2>&1; then
    echo "valgrind failed on $2 $3:" >&2; tail -5 "$OUT/log" >&2; return 1
  fi
  local n
  n=$(awk '/^(totals|summary):/ {print $2; exit}' "$file")
  if [ -z "$n" ] || [ "$n" = 0 ]; then
    echo "callgrind counted nothing inside engine::run_block on $2 $3" >&2; return 1
  fi
  echo "$n"
}
printf '%-40s %15s %15s %7s\n' input sequential block-stm ratio
for arg in --workload=erc20:txs=2000,accounts=20000,hot=0 --block=data/mainnet/13217637; do
  flag="${arg%%=*}"; input="${arg#*=}"
  seq=$(count "$flag" "$input" sequential)
  bs=$(count "$flag" "$input" block-stm)
  awk -v i="$input" -v s="$seq" -v b="$bs" 'BEGIN { printf "%-40s %15s %15s %7.3f\n", i, s, b, b / s }'
done
rm -rf "$OUT"
