// Command gen writes the big MLP of package bigmodel:
//
//	go run ./internal/bigmodel/gen -o DIR [-layers 5 -in 8192 -hidden 16384 -samples 4]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/potgo/pot/internal/bigmodel"
)

func main() {
	s := bigmodel.Default
	dir := flag.String("o", "", "output folder (created)")
	flag.IntVar(&s.Layers, "layers", s.Layers, "Gemm layers")
	flag.IntVar(&s.In, "in", s.In, "input width")
	flag.IntVar(&s.Hidden, "hidden", s.Hidden, "hidden width")
	flag.IntVar(&s.Samples, "samples", s.Samples, "calibration samples (calib.npy)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "gen: -o DIR is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	f, err := bigmodel.Write(*dir, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d bytes of weights in %s) and %s\n", f.Model, f.WeightBytes, f.Data, f.Calib)
}
