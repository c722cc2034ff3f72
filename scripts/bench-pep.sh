#!/usr/bin/env bash
# PEP operations through the real client (pep.Client) against the simulated
# PEP (pepsim) on loopback: HTTP requests, WS-Man messages and body bytes per
# operation as the simulator counted them, next to the requests masterzen's
# NewEncryption("ntlm") needs for the same WS-Man messages (3 handshake legs
# before each, measured in pepsim's TestMasterzenEncryption). Target: our
# requests <= WS-Man messages + 3. Also the time of a whole token round trip.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkPEPOperations|BenchmarkTokenRoundTrip' -benchtime 10x -count 1 ./pep/pepsim)
metric() { awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}'; }
printf '%-22s %10s %10s %12s %14s %8s\n' "operation" "requests" "ws-man" "bytes" "masterzen req" "target"
echo "$out" | grep '^BenchmarkPEPOperations/' | while read -r line; do
  name=$(echo "$line" | awk '{print $1}' | sed 's|BenchmarkPEPOperations/||; s|-[0-9]*$||')
  req=$(echo "$line" | metric requests/op); msg=$(echo "$line" | metric wsman-msgs/op)
  by=$(echo "$line" | metric wire-bytes/op); mz=$(echo "$line" | metric masterzen-requests/op)
  ok=$(awk -v r="$req" -v m="$msg" 'BEGIN {print (r <= m + 3) ? "ok" : "FAIL"}')
  printf '%-22s %10s %10s %12s %14s %8s\n' "$name" "$req" "$msg" "$by" "$mz" "$ok"
done
line=$(echo "$out" | grep '^BenchmarkTokenRoundTrip')
ns=$(echo "$line" | awk '{print $3}')
printf '%-22s %10s %10s %12s %14s %8s\n' "session+token+close" "$(echo "$line" | metric requests/op)" \
  "$(echo "$line" | metric wsman-msgs/op)" "$(echo "$line" | metric wire-bytes/op)" \
  "$(awk -v m="$(echo "$line" | metric wsman-msgs/op)" 'BEGIN {print 4 * m}')" "-"
awk -v ns="$ns" 'BEGIN {printf "token round trip on loopback (dial, stamp, token, close): %.1f ms\n", ns / 1e6}'
