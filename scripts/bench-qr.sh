#!/usr/bin/env bash
# bench-qr.sh — QR figures for issues 3 and 12: parts needed at caps 15 and
# 25, encode ms, decode ms per image for the 1-, 4- and 16-node token and key;
# then our decoder (gozxing with the fallback chain, in process) against
# zbarimg (zbar-tools, one process per degradation class, start-up amortised)
# on the same degraded images: the PNG files degraded, and codes captured from
# screens with display scaling and in small photos at 2–3 px/module
# (courier/qr/capture_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v zbarimg >/dev/null; then
  echo "bench-qr: zbarimg not found; install zbar-tools (make deps does)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go test -count=1 -run '^TestQRBenchTable$' ./courier/qr -args -qrbench.dir="$work" >/dev/null

echo "QR encode/decode (level M, PNG at 6 px/module; encode = frames + all PNGs)"
column -t -s $'\t' "$work/table.tsv"
echo

# zbarimg over each class: which files gave the expected frame, and the time.
declare -A zok ztime
classes=$(cut -f2 "$work/degraded.tsv" | awk '!seen[$0]++')
for c in $classes; do
  files=$(awk -F'\t' -v c="$c" '$2==c {print $1}' "$work/degraded.tsv")
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  zbarimg --xml -q --nodbus $files >"$work/z-$c.xml" 2>/dev/null || true
  end=$(date +%s%N)
  ztime[$c]=$(( (end - start) / 1000 ))
  # file<TAB>data for every symbol zbar read.
  awk 'BEGIN{RS="<source href=\x27"} NR>1 {
         split($0, a, "\x27"); f=a[1]
         while (match($0, /<!\[CDATA\[[^]]*\]\]>/)) {
           print f "\t" substr($0, RSTART+9, RLENGTH-12); $0=substr($0, RSTART+RLENGTH)
         }
       }' "$work/z-$c.xml" >"$work/z-$c.tsv"
  zok[$c]=$(awk -F'\t' 'NR==FNR {got[$1 "\t" $2]=1; next} ($1 "\t" $3) in got {n++} END{print n+0}' \
    "$work/z-$c.tsv" <(awk -F'\t' -v c="$c" '$2==c' "$work/degraded.tsv"))
done

echo "Degraded set: every part of the six artefacts at v15 and v25 (63 codes a class)."
echo "  as-written … 2.5px+blur+noise+jpeg: the PNG file (6 px/module), degraded."
echo "  scale125%/150%-Npx: rendered at 2 or 3 px/module, scaled by the display (bilinear),"
echo "    the screenshot shrunk to N px/module where needed; +blur+jpeg: σ 0.5 px, quality 75."
echo "  screenshotNNN%: the code at 2 px/module in a window among text, the 1280×720 screen scaled."
echo "  photo-Npx: photographed at N px/module: up to 4° and 3 % perspective, blur, light, noise, JPEG 85."
echo "  ok = images whose frame was read; ms = wall time per image (ours: read + decode in process;"
echo "  zbarimg: one process per class)."
{
  printf 'degradation\timages\tours_ok\tours_ms_per_image\tzbarimg_ok\tzbarimg_ms_per_image\n'
  for c in $classes; do
    awk -F'\t' -v c="$c" -v zok="${zok[$c]}" -v zus="${ztime[$c]}" '$2==c {n++; if ($4=="true") ok++; t+=$5}
      END {printf "%s\t%d\t%d\t%.1f\t%d\t%.1f\n", c, n, ok, t/n, zok, zus/1000/n}' "$work/degraded.tsv"
  done
  awk -F'\t' -v zus="$(IFS=+; echo $(( ${ztime[*]} )))" -v zok="$(IFS=+; echo $(( ${zok[*]} )))" \
    '{n++; if ($4=="true") ok++; t+=$5} END {printf "all\t%d\t%d\t%.1f\t%d\t%.1f\n", n, ok, t/n, zok, zus/1000/n}' "$work/degraded.tsv"
} | column -t -s $'\t'
