#!/usr/bin/env bash
# Writes the Windows resource object (icon, VERSIONINFO, manifest) that
# `go build` links into azs-courier.exe when it lies in the main package's
# folder: scripts/winres.sh OUT.syso [COMMIT]. Both `make windows` and
# `make package` use it, so every Windows binary looks the same in Explorer.
set -euo pipefail
out=${1:?usage: winres.sh OUT.syso [COMMIT]}
cd "$(dirname "$0")/.."
version=$(awk -F'"' '/^ *Version *=/{print $2; exit}' FyneApp.toml)
commit=${2:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
IFS=. read -r v1 v2 v3 _ <<<"$version.0.0.0"
rc=$(mktemp --suffix=.rc)
trap 'rm -f "$rc"' EXIT
sed -e "s/@VERSION@/$version/g" -e "s/@VERSION_COMMAS@/${v1:-0},${v2:-0},${v3%%[!0-9]*},0/g" -e "s/@COMMIT@/$commit/g" \
  assets/windows/azs-courier.rc.in > "$rc"
x86_64-w64-mingw32-windres -I . -O coff -i "$rc" -o "$out"
