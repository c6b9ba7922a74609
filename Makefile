# pot — build, test and demo.
#
#   make build   pot and every built-in plugin into bin/
#   make test    all tests (builds first: end-to-end tests run the binaries),
#                plus a short race-detector pass over the concurrent core
#   make race    the race detector over the host, the transport, the SDK and
#                the runtime's parallel paths
#   make demo    quantize the bundled example model and print its accuracy
#   make bigmodel  quantize a generated 2.5 GiB model (external data) and
#                report time and peak memory; out of `make test`
#                (BIGMODEL_DIR keeps the model, about 4 GiB of disk)
#   make fuzz    every fuzz target for FUZZTIME each (default 2m; one
#                worker, FUZZPARALLEL); logs and a summary per target
#                (tools/fuzz.sh)
#   make bench   issue 17's speed figures as one table, each next to its
#                goal with met / not met (go run ./tools/bench): float and
#                int8 inference against ONNX Runtime on 1 and 2 threads,
#                thread speed-ups, int8/float, `pot quantize` against
#                PyTorch's PTQ, the accuracy-aware search (BENCH_SEARCH=0
#                skips it), GNA's convolution against the cpu target's,
#                resnet's convolutions as a fraction of the CPU's peak.
#                POT_BENCH_ORT / POT_BENCH_TORCH name the folders of ort.sh
#                and torch_ptq.py (POT_BENCH_PYTHON: a Python with
#                python3-torch); without them those columns are left out
#   make proto   regenerate proto/ Go code (protoc from Debian's
#                protobuf-compiler; generators pinned in go.mod's tool block)

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/potgo/pot/sdk.BuildVersion=$(VERSION) -X github.com/potgo/pot/host/cli.Version=$(VERSION)
PKGS    := ./host/cmd/pot ./targets/cmd/... ./algorithms/cmd/...
FUZZTIME     ?= 2m
FUZZPARALLEL ?= 1

.PHONY: all build test race demo bigmodel bench fuzz proto vet clean

# Packages with concurrent code: the host (plugin manager, pipeline
# workers, progress), the transport, the SDK and the runtime's parallel
# paths. Tests that run plugin binaries build them without -race; the
# host side of every exchange is still checked.
RACE_PKGS  := ./host/... ./internal/plugins/... ./sdk/... ./targets/interp/...
RACE_SHORT := ./internal/plugins/... ./host/pluginmgr/... ./sdk/target/...

BIGMODEL_DIR ?= /tmp/pot-bigmodel

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(PKGS)

test: build
	$(GO) vet ./...
	$(GO) test -timeout 20m ./...
	$(GO) test -race -short $(RACE_SHORT)
	cd examples/plugins/mse-ranges && $(GO) vet ./... && $(GO) test ./...
	cd examples/plugins/npu && $(GO) vet ./... && $(GO) test ./...

race: build
	$(GO) test -race -timeout 30m $(RACE_PKGS)

demo: build
	./$(BIN)/pot quantize --model examples/models/resnet_fmnist.onnx \
	    --data examples/data/fmnist-calib.json --eval-data examples/data/fmnist-test.json \
	    --target cpu --preset performance --subset 300 -o $(BIN)/resnet_fmnist_int8.onnx
	./$(BIN)/pot eval --model $(BIN)/resnet_fmnist_int8.onnx --data examples/data/fmnist-test.json --target cpu

bigmodel: build
	POT_BIGMODEL=$(BIGMODEL_DIR) $(GO) test ./host/cli -run '^TestBigModel$$' -count=1 -v -timeout 60m

bench: build
	@POT=$(BIN)/pot BENCH_DIR=$(BIN)/bench $(GO) run ./tools/bench

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZPARALLEL=$(FUZZPARALLEL) ./tools/fuzz.sh

proto:
	./proto/gen.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
