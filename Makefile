# pot — build, test and demo.
#
#   make build   pot and every built-in plugin into bin/
#   make test    all tests (builds first: end-to-end tests run the binaries)
#   make demo    quantize the bundled example model and print its accuracy
#   make fuzz    every fuzz target for FUZZTIME each (default 2m; one
#                worker, FUZZPARALLEL); logs and a summary per target
#                (tools/fuzz.sh)
#   make proto   regenerate proto/ Go code (protoc from Debian's
#                protobuf-compiler; generators pinned in go.mod's tool block)

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/potgo/pot/sdk.BuildVersion=$(VERSION) -X github.com/potgo/pot/host/cli.Version=$(VERSION)
PKGS    := ./host/cmd/pot ./targets/cmd/... ./algorithms/cmd/...
FUZZTIME     ?= 2m
FUZZPARALLEL ?= 1

.PHONY: all build test demo fuzz proto vet clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(PKGS)

test: build
	$(GO) vet ./...
	$(GO) test ./...
	cd examples/plugins/mse-ranges && $(GO) vet ./... && $(GO) test ./...

demo: build
	./$(BIN)/pot quantize --model examples/models/resnet_fmnist.onnx \
	    --data examples/data/fmnist-calib.json --eval-data examples/data/fmnist-test.json \
	    --target cpu --preset performance --subset 300 -o $(BIN)/resnet_fmnist_int8.onnx
	./$(BIN)/pot eval --model $(BIN)/resnet_fmnist_int8.onnx --data examples/data/fmnist-test.json --target cpu

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZPARALLEL=$(FUZZPARALLEL) ./tools/fuzz.sh

proto:
	./proto/gen.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
