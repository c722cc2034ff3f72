#!/usr/bin/env bash
# Runs `make package` twice into separate folders and compares SHA256SUMS;
# then signs a copy with a throwaway certificate and verifies it.
# Exit 0 only when both runs gave identical bytes and the signature verifies.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(mktemp -d) b=$(mktemp -d)
trap 'rm -rf "$a" "$b"' EXIT
DIST=$a scripts/package.sh >/dev/null
DIST=$b scripts/package.sh >/dev/null
if diff <(cd "$a" && cat SHA256SUMS) <(cd "$b" && cat SHA256SUMS); then
  echo "reproducible: two package runs gave identical SHA256SUMS:"
  cat "$a/SHA256SUMS"
else
  echo "reproducible: FAILED, the two runs differ (above)" >&2
  exit 1
fi
DIST=$a scripts/sign.sh --self-signed
