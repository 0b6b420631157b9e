#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with the seeds the stable run uses: one
# workspace's real artifacts (mdm-harness artifacts) and the captures in
# ../shared/vectors/ (every seed goes to every target; libFuzzer keeps what
# reaches new code).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --quiet -p harness -- artifacts --out "$out/artifacts" >/dev/null
for target in $(grep -o 'name: "[a-z_0-9]*"' tests/hostile/targets.rs | cut -d'"' -f2); do
  mkdir -p "fuzz/corpus/$target"
  find "$out/artifacts" ../shared/vectors -type f ! -name LICENSE ! -name README.md 2>/dev/null |
    while read -r f; do cp "$f" "fuzz/corpus/$target/$(sha256sum "$f" | cut -c1-16)"; done
done
echo "seeded $(ls fuzz/corpus | wc -l) targets in fuzz/corpus/"
