# pot — build, test and demo.
#
#   make build   pot and every built-in plugin into bin/
#   make test    all tests
#   make demo    quantize the bundled example model and print its accuracy
#   make proto   regenerate proto/ Go code (protoc from Debian's
#                protobuf-compiler; generators pinned in go.mod's tool block)

GO      ?= go
BIN     := bin

.PHONY: all build test demo proto clean

all: build

proto:
	./proto/gen.sh

clean:
	rm -rf $(BIN)
