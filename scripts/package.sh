#!/usr/bin/env bash
# Builds the release packages into dist/, reproducibly:
#   azs-courier-<V>-windows-amd64.exe   GUI+CLI, icon, version resource, manifest (mingw-w64 cgo cross build)
#   azs-courier-<V>-linux-amd64.tar.xz  binary, .desktop entry, icon
#   azs-courier-<V>-sbom.txt            `go version -m` of both binaries
#   azs-courier-<V>-sbom.cdx.json       CycloneDX SBOM of the Go modules (cyclonedx-gomod)
#   SHA256SUMS
# The same commit gives the same bytes: -trimpath, no build ID, no VCS
# stamping, fixed file times and owners in the tarball, single-threaded xz.
# It builds the committed tree (git archive of HEAD), never uncommitted edits.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

version=$(awk -F'"' '/^ *Version *=/{print $2; exit}' FyneApp.toml)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
dist=${DIST:-dist}
[[ $dist = /* ]] || dist=$top/$dist
name=azs-courier-$version
ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit"
export GOFLAGS="-trimpath -buildvcs=false"
export SOURCE_DATE_EPOCH=$epoch

rm -rf "$dist" && mkdir -p "$dist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
  echo "package: note: uncommitted changes are not in the package; it is built from HEAD ($commit)" >&2
fi
mkdir -p "$work/src"
git archive HEAD | tar -x -C "$work/src"
cd "$work/src"
syso=rsrc_windows_amd64.syso

echo "package: linux/amd64"
CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -ldflags "$ldflags" -o "$work/linux/azs-courier" .
root="$work/tar/$name-linux-amd64"
install -D -m 0755 "$work/linux/azs-courier" "$root/usr/local/bin/azs-courier"
install -D -m 0644 assets/linux/io.github.azscourier.desktop "$root/usr/local/share/applications/io.github.azscourier.desktop"
install -D -m 0644 assets/icon.png "$root/usr/local/share/pixmaps/io.github.azscourier.png"
cat > "$root/INSTALL" <<TXT
AzS Courier $version ($commit) for Linux x86-64.
Install: sudo cp -r usr/local/* /usr/local/   (or run usr/local/bin/azs-courier in place)
Runtime libraries: libGL, libX11 (or Wayland); Debian/Ubuntu: libgl1 libx11-6 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1
TXT
find "$work/tar" -exec touch -h -d "@$epoch" {} +
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu \
  -C "$work/tar" -cf - "$name-linux-amd64" | xz -T1 -9 -c > "$dist/$name-linux-amd64.tar.xz"

echo "package: windows/amd64"
scripts/winres.sh "$syso" "$commit"
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
  go build -ldflags "$ldflags" -o "$dist/$name-windows-amd64.exe" .
rm -f "$syso"

echo "package: SBOM"
{ go version -m "$work/linux/azs-courier"; go version -m "$dist/$name-windows-amd64.exe"; } \
  | sed "s#$work/linux/##; s#$dist/##" > "$dist/$name-sbom.txt"
cdx() { (cd tools && go tool cyclonedx-gomod "$@"); }
if cdx version >/dev/null 2>&1; then
  cdx bin -json -noserial -std -version "$version" -output "$work/sbom.json" "$work/linux/azs-courier"
  # The generator stamps the current time; use the commit's for reproducibility.
  sed -E "s/\"timestamp\": *\"[^\"]*\"/\"timestamp\": \"$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)\"/" \
    "$work/sbom.json" > "$dist/$name-sbom.cdx.json"
else
  echo "package: cyclonedx-gomod not available; the SBOM is go version -m only" >&2
fi

(cd "$dist" && sha256sum -- * > SHA256SUMS)
echo "package: done"
cat "$dist/SHA256SUMS"
