#!/usr/bin/env bash
# Rebuilds contracts/out/ from the .sol sources with the pinned solc-js.
# Usage (from anywhere): bash contracts/build.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "build.sh: node not found" >&2; exit 1; }
command -v npm >/dev/null || { echo "build.sh: npm not found" >&2; exit 1; }

# Install the exact versions from package-lock.json if not installed yet
# (or if an install is missing solc).
if [ ! -d node_modules ] || [ ! -f node_modules/solc/package.json ]; then
  npm ci --no-audit --no-fund
fi

want="$(node -p 'require("./package.json").dependencies.solc')"
have="$(node -p 'require("solc/package.json").version')"
if [ "$want" != "$have" ]; then
  echo "build.sh: node_modules has solc $have, package.json pins $want; reinstalling" >&2
  npm ci --no-audit --no-fund
fi

rm -rf out
node compile.js
echo "build.sh: wrote $(ls out | wc -l) files to contracts/out/ (solc $(cat out/solc-version.txt))"
