#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build, run and test
# AzS Courier. It calls apt-get only when something is missing (through sudo
# when not root), so on a prepared machine it does nothing and takes a moment.
#
#   scripts/deps.sh            build + test packages (Fyne's cgo headers, Xvfb, zbar, qrencode)
#   scripts/deps.sh package    also the Windows cross compiler (mingw-w64)
set -euo pipefail

packages=(
  gcc pkg-config                      # cgo
  libgl1-mesa-dev libx11-dev          # Fyne (go-gl, GLFW)
  libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  libxkbcommon-dev libwayland-dev
  xvfb xauth x11-apps imagemagick     # GUI tests, screenshots and the first-frame benchmark
  zbar-tools qrencode poppler-utils   # independent QR checks, PDF sheet read-back
  ca-certificates git
)
if [[ "${1:-}" == package ]]; then
  packages+=(gcc-mingw-w64-x86-64-win32 xz-utils osslsigncode)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_go=0
if ! command -v go >/dev/null 2>&1; then
  need_go=1
elif ! go version | awk '{split(substr($3,3),v,"."); exit !(v[1]>1 || v[2]>=21)}'; then
  need_go=1   # older than 1.21: cannot switch toolchains by itself
fi
if (( need_go )) && ! command -v go >/dev/null 2>&1; then
  missing+=(golang-go)
fi

sudo=()
if (( ${#missing[@]} )) || (( need_go )); then
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
fi

if (( ${#missing[@]} )); then
  echo "deps: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if (( need_go )); then
  # Debian's Go is too old for this module (go 1.26). Fetch the Go toolchain
  # itself as a module through the Go module proxy and put it on PATH.
  want=$(awk '/^go /{print $2}' "$(dirname "$0")/../go.mod")
  ver=$(awk '/^toolchain /{print $2}' "$(dirname "$0")/../go.mod")
  ver=${ver:-go1.26.8}
  arch=$(dpkg --print-architecture)
  mod="golang.org/toolchain@v0.0.1-${ver}.linux-${arch}"
  echo "deps: fetching Go ${ver} (module needs ${want}) as ${mod}"
  tmp=$(mktemp -d)
  dir=$(cd "$tmp" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "$mod" | awk -F'"' '/"Dir"/{print $4}')
  rm -rf "$tmp"
  [[ -x "$dir/bin/go" ]] || { echo "deps: could not fetch the Go toolchain ${ver}" >&2; exit 1; }
  "${sudo[@]}" ln -sf "$dir/bin/go" /usr/local/bin/go
  "${sudo[@]}" ln -sf "$dir/bin/gofmt" /usr/local/bin/gofmt
  hash -r
  echo "deps: $(go version)"
fi
