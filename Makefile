# AzS Courier — build, run, test.
#   make run     open the GUI in training mode (built-in simulated stamp and Azure)
#   make test    everything CI runs: vet, unit, fuzz seeds, end-to-end, GUI screenshots
#   make bench   benchmarks and comparison tables
# Every target installs what the machine lacks first (scripts/deps.sh).

SHELL      := /bin/bash
GO         ?= go
VERSION    ?= $(shell awk -F'"' '/^ *Version *=/{print $$2; exit}' FyneApp.toml)
COMMIT     ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS    := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN        := bin/azs-courier
FUZZTIME   ?= 20s
TESTFLAGS  ?= -count=1 -timeout 12m

.PHONY: deps deps-package build run demo test vet bench fuzz package sign release-check windows clean

deps:
	@scripts/deps.sh

deps-package:
	@scripts/deps.sh package

build: deps
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

run: build
	@scripts/run.sh $(BIN)

demo: build
	$(BIN) demo

vet: deps
	$(GO) vet ./...

test: deps-package vet
	@gofmt_out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	  if [ -n "$$gofmt_out" ]; then echo "gofmt needed: $$gofmt_out"; exit 1; fi
	@tidy=$$($(GO) mod tidy -diff 2>&1) || { echo "go.mod is not tidy; run 'go mod tidy':"; echo "$$tidy"; exit 1; }
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) --no-print-directory windows

# The Windows binary must keep compiling (cgo cross build with mingw-w64); it
# carries the icon, version information and manifest, as the release does.
windows: deps-package
	scripts/winres.sh rsrc_windows_amd64.syso $(COMMIT)
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
	  $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/azs-courier.exe .; \
	  status=$$?; rm -f rsrc_windows_amd64.syso; exit $$status
	@echo "windows: bin/azs-courier.exe built (icon, version information, manifest)"

# Release packages in dist/ (Windows .exe, Linux .tar.xz, SBOMs, SHA256SUMS).
package: deps-package
	scripts/package.sh

# Authenticode-sign dist/*.exe: SIGN_CERT=cert.pem SIGN_KEY=key.pem make sign
sign: deps-package
	scripts/sign.sh

# Two package runs must give identical bytes; a throwaway-signed copy must verify.
release-check: deps-package
	scripts/check-reproducible.sh

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...
	@for s in scripts/bench-*.sh; do [ -x "$$s" ] && { echo "== $$s"; "$$s" || exit 1; }; done; true

# Run every fuzz target for FUZZTIME (the seed corpora already run in make test).
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin dist test-output
