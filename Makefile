# tw-cli — see README.md. `make build` and `make test` are all a newcomer needs.
GO        ?= go
BIN       := bin/tw-cli
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X github.com/tw-cli/tw-cli/internal/app.version=$(VERSION) \
             -X github.com/tw-cli/tw-cli/internal/app.commit=$(COMMIT) \
             -X github.com/tw-cli/tw-cli/internal/app.date=$(DATE)
UNIT_PKGS  = $(shell $(GO) list ./... | grep -v /e2e)

.PHONY: all build test unit e2e vet lint fmt completions docs tidy clean bench fuzz

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tw-cli

## test: vet, unit tests under the race detector, then end-to-end tests of the built binary
test: vet unit e2e

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

e2e:
	$(GO) test -count=1 ./e2e/...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

completions: build
	mkdir -p completions
	$(BIN) completion bash > completions/tw-cli.bash
	$(BIN) completion zsh > completions/_tw-cli
	$(BIN) completion fish > completions/tw-cli.fish
	$(BIN) completion powershell > completions/tw-cli.ps1

## docs: man pages and Markdown reference; the man pages' date is that of the last commit to docs/, so regenerating unchanged help changes nothing
docs:
	rm -rf docs/reference docs/man
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct -- docs 2>/dev/null | grep . || date +%s) $(GO) run ./cmd/gen-docs docs

## bench: tw-cli serve vs a bare net/http handler on loopback, with a 60 s soak (about 4 minutes); BENCHFLAGS adds compare's flags, e.g. BENCHFLAGS='-soak 0' to skip the soak
## (BENCHFLAGS='-database-url postgres://…' also measures a receiver on PostgreSQL, next to SQLite)
BENCHFLAGS ?=
bench: build
	$(GO) build -o bin/baseline ./bench/baseline
	$(GO) run ./bench/compare -tw $(BIN) -baseline bin/baseline $(BENCHFLAGS)

## fuzz: run every fuzz target in the repository (or those FUZZ matches) for FUZZTIME each (default 10s); see scripts/fuzz.sh
FUZZTIME ?= 10s
FUZZ     ?= .
fuzz:
	GO='$(GO)' FUZZTIME='$(FUZZTIME)' FUZZ='$(FUZZ)' scripts/fuzz.sh

tidy:
	$(GO) mod tidy

clean:
	rm -rf bin
