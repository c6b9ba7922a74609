package onnx_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/potgo/pot/sdk/onnx"
)

// A model read into a pot graph, edited, and written back over the
// original, so that what pot does not model (producer, doc strings,
// unknown fields) is kept.
func Example() {
	m, err := onnx.ReadFile("../../examples/models/lenet_mnist.onnx")
	if err != nil {
		log.Fatal(err)
	}
	if err := onnx.CheckOpset(m); err != nil {
		log.Fatal(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d nodes, %d initializers, first node %s (%s)\n", len(g.GetNodes()), len(g.GetInitializers()), g.GetNodes()[0].GetName(), g.GetNodes()[0].GetOpType())

	g.Metadata["quantized_by"] = "pot"
	out, err := onnx.FromGraph(g, m)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "lenet_out.onnx")
	if err := onnx.WriteFile(path, out, onnx.WriteOptions{}); err != nil {
		log.Fatal(err)
	}

	back, err := onnx.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("producer:", back.GetProducerName(), "metadata:", back.GetMetadataProps()[0].GetKey())
	// Output:
	// 10 nodes, 8 initializers, first node /c1/Conv (Conv)
	// producer: pytorch metadata: quantized_by
}

// Writing a model with its weights in an external data file beside it,
// as ONNX does for models above protobuf's 2 GiB limit (WriteFile does
// that on its own when needed).
func ExampleWriteFile_externalData() {
	m, err := onnx.ReadFile("../../examples/models/mlp_mnist.onnx")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mlp.onnx")
	if err := onnx.WriteFile(path, m, onnx.WriteOptions{ExternalData: true}); err != nil {
		log.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	back, err := onnx.ReadFile(path) // loads mlp.onnx.data
	if err != nil {
		log.Fatal(err)
	}
	w := back.GetGraph().GetInitializer()[0]
	fmt.Printf("%s: %d bytes\n", w.GetName(), len(w.GetRawData()))
	// Output:
	// mlp.onnx
	// mlp.onnx.data
	// f1.weight: 802816 bytes
}
