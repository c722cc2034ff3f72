#!/usr/bin/env bash
# Runs the Windows build (bin/azs-courier.exe, from `make windows`) under wine,
# for trying it as a Windows user would. A dev helper: not shipped, not part of
# `make test`.
#
#   scripts/wine-run.sh version                      the exe with these arguments
#   scripts/wine-run.sh qr decode 'Z:\tmp\qr\*.png' --out key.txt
#   scripts/wine-run.sh --cmd 'azs-courier version'  lines run by wine's cmd.exe, as in
#                                                    a .cmd file (one argument a line;
#                                                    bin\ is on its PATH)
#   scripts/wine-run.sh --cmd 'Z:\tmp\steps.cmd'     a .cmd/.bat file
#   scripts/wine-run.sh --cmd                        an interactive cmd (in a terminal)
#   scripts/wine-run.sh --setup                      only prepare the prefix; print it
#   xvfb-run -a scripts/wine-run.sh gui --training   the GUI on a virtual display
#
# It keeps a private wine prefix (WINEPREFIX, default test-output/wine-prefix,
# which git ignores) and installs into its system32 a stand-in
# bcryptprimitives.dll built from scripts/wine/bcryptprimitives.c: wine 8 lacks
# that DLL, and Go's runtime needs its ProcessPrng to start. Lines given to
# --cmd are written to the batch file as UTF-8: keep them ASCII (cmd reads
# batch files in the console's code page). Environment:
#   WINEPREFIX   the prefix to use (created on first run)
#   AZS_EXE      the exe to run (default bin/azs-courier.exe)
#   WINE         the wine loader (default: wine)
#   WINEDEBUG    wine's debug channels (default -all: no wine noise)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export WINEPREFIX=${WINEPREFIX:-$repo/test-output/wine-prefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEARCH=win64
# No Mono or Gecko install prompts when the prefix is created.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
wine=${WINE:-wine}
exe=${AZS_EXE:-$repo/bin/azs-courier.exe}

die() { echo "wine-run: $*" >&2; exit 2; }

command -v "$wine" >/dev/null || die "$wine not found; install wine (apt-get install wine wine64)"

# The prefix: created once, quietly.
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  echo "wine-run: creating the wine prefix $WINEPREFIX (once, a few seconds)" >&2
  mkdir -p "$WINEPREFIX"
  "$wine" wineboot --init >/dev/null 2>&1 || die "wineboot --init failed in $WINEPREFIX"
  # Wait until the registry is written out.
  for ws in wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
    if command -v "$ws" >/dev/null; then "$ws" -w || true; break; fi
  done
fi
sys32=$WINEPREFIX/drive_c/windows/system32
[[ -d $sys32 ]] || die "$sys32 is missing; remove $WINEPREFIX and run again"

# The stand-in DLL: rebuilt when its source is newer than the installed copy.
src=$repo/scripts/wine/bcryptprimitives.c
def=$repo/scripts/wine/bcryptprimitives.def
dll=$sys32/bcryptprimitives.dll
if [[ ! -f $dll || $src -nt $dll || $def -nt $dll ]]; then
  command -v x86_64-w64-mingw32-gcc >/dev/null ||
    die "x86_64-w64-mingw32-gcc not found; install it (apt-get install gcc-mingw-w64-x86-64)"
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$dll.new" "$src" "$def" -ladvapi32
  mv "$dll.new" "$dll"
fi

# bin\ on the PATH of programs wine starts, so cmd finds azs-courier.
winpath() { "$wine" winepath -w "$1" 2>/dev/null | tr -d '\r'; }
exedir=$(cd "$(dirname "$exe")" 2>/dev/null && pwd || echo "$repo/bin")
export WINEPATH="Z:${exedir//\//\\}"

case "${1:-}" in
  --setup)
    echo "WINEPREFIX=$WINEPREFIX"
    echo "WINEPATH=$WINEPATH"
    echo "exe: $exe ($(winpath "$exe"))"
    exit 0 ;;
  --cmd)
    shift
    [[ $# -gt 0 ]] || exec "$wine" cmd
    if [[ $# -eq 1 && $1 =~ \.(cmd|bat|CMD|BAT)$ ]]; then
      exec "$wine" cmd /c "$1"
    fi
    # The lines go to cmd in a batch file, as typed: passed as arguments, wine
    # would escape their double quotes as \", which cmd does not understand.
    batch=$(mktemp "$WINEPREFIX/drive_c/wine-run-XXXXXX")
    trap 'rm -f "$batch" "$batch.cmd"' EXIT
    { echo "@echo off"; printf '%s\n' "$@"; } | sed 's/$/\r/' > "$batch"
    mv "$batch" "$batch.cmd"
    status=0
    "$wine" cmd /c "C:\\$(basename "$batch").cmd" || status=$?
    exit $status ;;
esac

[[ -f $exe ]] || die "$exe not found; build it with: make windows"
exec "$wine" "$exe" "$@"
