// Command fuzzseed turns files into seed corpus entries of a fuzz target
// whose one argument is a []byte (or, with -string, a string), in Go's
// native layout: each file becomes testdata/fuzz/FuzzXxx/<hash>, a "go
// test fuzz v1" file that `go test` runs as a test case and `go test
// -fuzz` mutates.
//
//	go run ./internal/fuzzseed -dir sdk/onnx/testdata/fuzz/FuzzDecode model.onnx ...
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "", "the target's corpus folder, testdata/fuzz/FuzzXxx of its package")
	asString := flag.Bool("string", false, "the argument is a string, not a []byte")
	maxSize := flag.Int("max", 64<<10, "skip files larger than this many bytes")
	flag.Parse()
	if *dir == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: fuzzseed -dir testdata/fuzz/FuzzXxx [-string] FILE...")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "fuzzseed:", err)
		os.Exit(1)
	}
	for _, path := range flag.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fuzzseed:", err)
			os.Exit(1)
		}
		if len(b) > *maxSize {
			fmt.Fprintf(os.Stderr, "fuzzseed: skip %s (%d bytes > -max %d)\n", path, len(b), *maxSize)
			continue
		}
		entry := Entry(b, *asString)
		name := filepath.Join(*dir, fmt.Sprintf("%x", sha256.Sum256(entry))[:16])
		if err := os.WriteFile(name, entry, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzseed:", err)
			os.Exit(1)
		}
		fmt.Printf("%s <- %s\n", name, path)
	}
}

// Entry encodes one value as a corpus file.
func Entry(b []byte, asString bool) []byte {
	if asString {
		return fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", b)
	}
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
}
