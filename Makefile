# pot — build, test and demo.
#
#   make build   pot and every built-in plugin into bin/
#   make test    all tests (builds first: end-to-end tests run the binaries)
#   make demo    quantize the bundled example model and print its accuracy
#   make bigmodel  quantize a generated 2.5 GiB model (external data) and
#                report time and peak memory; out of `make test`
#                (BIGMODEL_DIR keeps the model, about 4 GiB of disk)
#   make proto   regenerate proto/ Go code (protoc from Debian's
#                protobuf-compiler; generators pinned in go.mod's tool block)

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/potgo/pot/sdk.BuildVersion=$(VERSION) -X github.com/potgo/pot/host/cli.Version=$(VERSION)
PKGS    := ./host/cmd/pot ./targets/cmd/... ./algorithms/cmd/...

BIGMODEL_DIR ?= /tmp/pot-bigmodel

.PHONY: all build test demo bigmodel proto vet clean

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

bigmodel: build
	POT_BIGMODEL=$(BIGMODEL_DIR) $(GO) test ./host/cli -run '^TestBigModel$$' -count=1 -v -timeout 60m

proto:
	./proto/gen.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
