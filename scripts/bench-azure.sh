#!/bin/sh
# bench-azure.sh: requests and wall time for register + activation-key against
# azuresim with 50 ms latency on every answer, next to the request count of
# RegisterWithAzure.psm1 for the same steps (azure-registration.md §3.10, §3.4).
set -eu
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkRegisterActivationKey$' -benchtime "${BENCH_AZURE_TIMES:-5}x" ./azure)
line=$(printf '%s\n' "$out" | grep '^BenchmarkRegisterActivationKey') || {
	printf '%s\n' "$out" >&2
	echo "bench-azure: benchmark did not run" >&2
	exit 1
}
printf '%s\n' "$line" | awk '{
	for (i = 1; i <= NF; i++) {
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "arm-requests/op") arm = $i
		if ($(i+1) == "authority-requests/op") auth = $i
		if ($(i+1) == "psm1-arm-requests/op") psm = $i
	}
	printf "register + activation-key, azuresim, 50 ms latency per answer\n"
	printf "%-34s %12s %16s %12s\n", "client", "ARM requests", "sign-in requests", "wall time"
	printf "%-34s %12d %16d %9.0f ms\n", "azs-courier (azure.Registrar)", arm, auth, ns / 1e6
	printf "%-34s %12d %16s %12s\n", "RegisterWithAzure.psm1 (§3.10)", psm, "n/a", "n/a"
	printf "\nazs-courier also checks the cloud ID is free (1 list) and reads the registration\n"
	printf "before the key (1 get); the module instead lists locations (1 get).\n"
}'
