# Duplex. `make serve` and `make test` are all a fresh clone needs (plus
# Chromium for the browser tests).
GO      ?= go
PORT    ?= 8080
WASM    := web/app.wasm
SOURCES := $(shell find app shared -name '*.go' -not -name '*_test.go') go.mod go.sum
WASMEXEC = $(shell $(GO) env GOROOT)/lib/wasm

# The abuse workloads pin the server and the load tool to different cores
# when taskset exists, so the bystander's latency is not the tool's.
PIN_TOOL   := $(if $(shell command -v taskset),taskset -c 1,)
PIN_SERVER := $(if $(shell command -v taskset),0,)

.PHONY: serve serve-cluster bench-cluster wasm test test-wasm test-race vet fmt bench bench-firstpaint fuzz clean

## serve: build the wasm bundle and run the server on :$(PORT) with ./data
serve: wasm
	$(GO) run ./server/cmd/duplex

## serve-cluster: the same, as a cluster on this machine: three NATS
## servers with JetStream (R3) and three duplex nodes on 127.0.0.1:8081,
## 8082 and 8083 sharing one log and one session key, data in
## ./data/cluster (server/cmd/duplex-cluster); Ctrl-C stops them all
serve-cluster: wasm
	$(GO) build -o bin/duplex ./server/cmd/duplex
	$(GO) build -o bin/duplex-cluster ./server/cmd/duplex-cluster
	bin/duplex-cluster -duplex bin/duplex

## wasm: build web/app.wasm and its brotli and gzip twins (only when stale)
wasm: $(WASM) $(WASM).br $(WASM).gz

# The bundle is built with three files of go-app and coder/websocket
# patched so that it does not link net/http (app/wasm/_overlay/README.md).
# Every js/wasm build, test and vet goes through $(JSGO), so the wasm tests
# and vet compile exactly the module graph the bundle ships
# (TestBundleModuleGraph checks it).
WASMMOD := .wasmbuild/go.mod
JSGO     = GOOS=js GOARCH=wasm $(GO)
JSFLAGS := -modfile $(WASMMOD)

$(WASMMOD): go.mod go.sum $(wildcard app/wasm/_overlay/*/*.go) app/wasm/_overlay/prepare.sh
	GO=$(GO) app/wasm/_overlay/prepare.sh .wasmbuild

$(WASM): $(SOURCES) $(WASMMOD)
	$(JSGO) build $(JSFLAGS) -trimpath -ldflags='-s -w' -o $@ ./app/wasm
	@touch $@ # go build leaves an unchanged binary's time alone
	@ls -l $@

$(WASM).br $(WASM).gz &: $(WASM)
	$(GO) run ./server/cmd/compress $(WASM)

## test: everything: native (with browser tests), then test-wasm
test: $(WASM)
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) test-wasm

## test-wasm: shared, client, ui and the bundle's own checks under js/wasm, built as the bundle is
test-wasm: $(WASM)
	PATH="$(WASMEXEC):$$PATH" $(JSGO) test $(JSFLAGS) -count=1 ./shared/... ./app/client/... ./app/ui/... ./app/wasm/...

## test-race: the race detector over the library packages (CI runs it
## after make test; the server's tests take several minutes under it)
RACE_PKGS := ./shared/... ./app/client/... ./app/ui/... ./server/ ./server/store/... ./server/files/... ./server/cluster/...
test-race:
	$(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)

## vet: go vet natively and for js/wasm, and gofmt
vet: $(WASMMOD)
	$(GO) vet ./...
	$(JSGO) vet $(JSFLAGS) ./shared/... ./app/...
	@test -z "$$(gofmt -l app server shared)" || (gofmt -l app server shared; exit 1)

fmt:
	gofmt -w app server shared

## bench: Go micro-benchmarks, then the load tool against Duplex and the
## naive coder/websocket loop in the same run, then the abuse workloads
## (flood, joinstorm, history-hog, reactions, search, typing, bomb,
## trickle, slowdl) beside a bystander (about ten minutes)
bench: wasm
	$(GO) build -o bin/duplex ./server/cmd/duplex
	$(GO) build -o bin/duplex-load ./app/cmd/duplex-load
	$(GO) test -run '^$$' -bench . -benchtime 1s ./shared/ ./server/ ./server/store/sqlite/
	$(MAKE) bench-firstpaint
	bin/duplex-load bench -duplex bin/duplex -duration 5s -rates 50,200,400,800 -idle 10000
	$(PIN_TOOL) bin/duplex-load abuse -duplex bin/duplex -server-cpus "$(PIN_SERVER)" -duration 5s -clients 1000

## bench-cluster: one node and a three-node cluster (three NATS servers,
## R3) in the same run, the same fan-out on both: publishers on node 1,
## subscribers on the other nodes; latency, deliveries/s, server CPU per
## delivery (about 2.5 minutes)
bench-cluster:
	$(GO) build -o bin/duplex ./server/cmd/duplex
	$(GO) build -o bin/duplex-load ./app/cmd/duplex-load
	$(PIN_TOOL) bin/duplex-load cluster -duplex bin/duplex -server-cpus "$(PIN_SERVER)" -duration 20s -rates 100,200,400

## bench-firstpaint: first paint of a room with 50 messages in headless
## Chromium, cold and warm, median of 3 browsers (metrics in ms)
bench-firstpaint: wasm
	$(GO) test -count=1 -run '^$$' -bench FirstPaint -benchtime 3x ./server/cmd/duplex/

## fuzz: a longer run of the decoder fuzzers (make test runs their seeds).
## Minimizing each new input may take 60 s by default, which stalls a short
## run at 0 execs/s on a busy machine; 100 tries is enough here.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode$$ -fuzztime 60s -fuzzminimizetime 100x ./shared/
	$(GO) test -run '^$$' -fuzz FuzzDecodeFast -fuzztime 60s -fuzzminimizetime 100x ./shared/

clean:
	rm -rf $(WASM) $(WASM).br $(WASM).gz .wasmbuild
