#!/usr/bin/env bash
# Authenticode-signs the Windows executable in dist/ with osslsigncode, checks
# the signature, and refreshes SHA256SUMS.
#
#   SIGN_CERT=cert.pem SIGN_KEY=key.pem scripts/sign.sh     sign with your certificate (PEM)
#   SIGN_PASS_FILE=pass.txt                                 password of an encrypted key, read from a file
#   scripts/sign.sh --self-signed                           sign with a throwaway self-signed
#                                                           certificate (tests only; never ship it)
# Secrets are never put on a command line: the key password is passed as a file.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${DIST:-dist}
exe=$(ls "$dist"/azs-courier-*-windows-amd64.exe 2>/dev/null | head -1 || true)
[[ -n $exe ]] || { echo "sign: no Windows executable in $dist; run 'make package' first" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [[ ${1:-} == --self-signed ]]; then
  SIGN_CERT=$tmp/cert.pem SIGN_KEY=$tmp/key.pem
  openssl req -x509 -newkey rsa:3072 -nodes -days 2 -subj "/CN=AzS Courier test signing (throwaway)/O=AzS Courier tests" \
    -addext "extendedKeyUsage=codeSigning" -keyout "$SIGN_KEY" -out "$SIGN_CERT" 2>/dev/null
  echo "sign: using a throwaway self-signed certificate (tests only)"
fi
if [[ -z ${SIGN_CERT:-} || -z ${SIGN_KEY:-} ]]; then
  echo "sign: set SIGN_CERT and SIGN_KEY to your code-signing certificate and key (PEM), or use --self-signed for a test" >&2
  exit 1
fi
pass=()
[[ -n ${SIGN_PASS_FILE:-} ]] && pass=(-readpass "$SIGN_PASS_FILE")
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)

osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" "${pass[@]}" -h sha256 \
  -n "AzS Courier" -i "https://github.com/azs-courier/azs-courier" -time "$epoch" \
  -in "$exe" -out "$tmp/signed.exe" >/dev/null
osslsigncode verify -CAfile "$SIGN_CERT" -in "$tmp/signed.exe" | tee "$tmp/verify.log" | grep -E "Signature verification|Number of verified|Signer's certificate" || true
grep -q "Signature verification: ok" "$tmp/verify.log" || { echo "sign: signature did not verify" >&2; cat "$tmp/verify.log" >&2; exit 1; }
mv "$tmp/signed.exe" "$exe"
(cd "$dist" && sha256sum -- $(ls | grep -v '^SHA256SUMS$') > SHA256SUMS)
echo "sign: signed and verified $exe"
