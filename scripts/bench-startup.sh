#!/usr/bin/env bash
# Start-up time of the built binary: `azs-courier version`, the median of 30
# runs (target: under 50 ms), next to `inspect` of the 16-node token.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/azs-courier
[[ -x $bin ]] || go build -trimpath -o "$bin" .
tok=../shared/testdata/tokens/registration-token-16node.txt
cfg=$(mktemp -d); trap 'rm -rf "$cfg"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
  for _ in $(seq 30); do
    s=$(date +%s%N); AZS_COURIER_CONFIG_DIR=$cfg "$@" >/dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median
}
printf '%-44s %12s %10s\n' "command (30 runs)" "median" "target"
ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }
printf '%-44s %9s ms %10s\n' "azs-courier version" "$(ms "$(measure $bin version)")" "< 50 ms"
printf '%-44s %9s ms %10s\n' "azs-courier inspect 16-node token (process)" "$(ms "$(measure $bin inspect $tok)")" "-"
