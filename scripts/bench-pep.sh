#!/usr/bin/env bash
# PEP operations through the real client (pep.Client) against the simulated
# PEP (pepsim) on loopback: HTTP requests, WS-Man messages and body bytes per
# operation as the simulator counted them, next to the requests masterzen's
# NewEncryption("ntlm") needs for the same WS-Man messages (3 handshake legs
# before each, measured in pepsim's TestMasterzenEncryption). Target: one
# HTTP request per WS-Man message on an open session (no handshake per
# message). Also the time of a whole token round trip, the wait before the
# next command after a pipeline whose Receive faulted half way through a
# 30-minute activation (target: under 1 s), and the time to fail against a
# PEP whose process is stopped with SIGSTOP (target: under 60 s; about a
# minute and a quarter of waiting).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkPEPOperations|BenchmarkTokenRoundTrip|BenchmarkWaitAfterFaultedPipeline' -benchtime 10x -count 1 ./pep/pepsim)
metric() { awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}'; }
printf '%-22s %10s %10s %12s %14s %8s\n' "operation" "requests" "ws-man" "bytes" "masterzen req" "target"
echo "$out" | grep '^BenchmarkPEPOperations/' | while read -r line; do
  name=$(echo "$line" | awk '{print $1}' | sed 's|BenchmarkPEPOperations/||; s|-[0-9]*$||')
  req=$(echo "$line" | metric requests/op); msg=$(echo "$line" | metric wsman-msgs/op)
  by=$(echo "$line" | metric wire-bytes/op); mz=$(echo "$line" | metric masterzen-requests/op)
  ok=$(awk -v r="$req" -v m="$msg" 'BEGIN {print (r == m) ? "ok" : "FAIL"}')
  printf '%-22s %10s %10s %12s %14s %8s\n' "$name" "$req" "$msg" "$by" "$mz" "$ok"
done
line=$(echo "$out" | grep '^BenchmarkTokenRoundTrip')
ns=$(echo "$line" | awk '{print $3}')
printf '%-22s %10s %10s %12s %14s %8s\n' "session+token+close" "$(echo "$line" | metric requests/op)" \
  "$(echo "$line" | metric wsman-msgs/op)" "$(echo "$line" | metric wire-bytes/op)" \
  "$(awk -v m="$(echo "$line" | metric wsman-msgs/op)" 'BEGIN {print 4 * m}')" "-"
awk -v ns="$ns" 'BEGIN {printf "token round trip on loopback (dial, stamp, key pair, token, close): %.1f ms\n", ns / 1e6}'
wait=$(echo "$out" | grep '^BenchmarkWaitAfterFaultedPipeline' | metric next-command-ms)
awk -v w="$wait" 'BEGIN {printf "next command after a faulted pipeline (30-minute activation): %.1f ms (target < 1000 ms: %s)\n", w, (w < 1000) ? "ok" : "FAIL"}'
stopped=$(PEP_BENCH_STOPPED=1 go test -run '^$' -bench 'BenchmarkStoppedPEP' -benchtime 1x -count 1 ./pep/pepsim)
c=$(echo "$stopped" | grep '^BenchmarkStoppedPEP/connect' | metric s-to-fail)
m=$(echo "$stopped" | grep '^BenchmarkStoppedPEP/mid-session' | metric s-to-fail)
mc=$(echo "$stopped" | grep '^BenchmarkStoppedPEP/mid-session' | metric s-to-closed)
awk -v c="$c" -v m="$m" -v mc="$mc" 'BEGIN {printf "time to fail against a stopped (SIGSTOP) PEP: connecting %.1f s, mid-session %.1f s (%.1f s with Close) (target < 60 s: %s)\n", c, m, mc, (c < 60 && mc < 60) ? "ok" : "FAIL"}'
