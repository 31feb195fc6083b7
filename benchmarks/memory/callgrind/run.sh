#!/bin/sh
# Instructions per operation (callgrind, load-independent): run.sh <checkout root> <op>...
# Each op runs 150,000 warm-up calls, then 50,000 or 150,000 counted ones, in two processes;
# the figure is (Ir of the long run - Ir of the short one) / 100,000.
set -eu
root=$(cd "$1" && pwd)
shift
dir=$(dirname "$0")
out=${TMPDIR:-/tmp}/cellar-callgrind.$$
mkdir -p "$out"
total() {
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
    node --single-threaded --predictable --hash-seed=1 --random-seed=1 \
    "$dir/op.mjs" "$root" "$1" 150000 "$2" 2>"$out/log" >/dev/null
  sed -n 's/^summary: //p' "$out/cg.out"
}
for op in "$@"; do
  short=$(total "$op" 50000)
  long=$(total "$op" 150000)
  echo "$op $(( (long - short) / 100000 ))"
done
rm -rf "$out"
