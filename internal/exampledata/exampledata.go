// Package exampledata reads the example data sets of examples/data (IDX
// files of MNIST and Fashion-MNIST, normalized as their descriptors say)
// for the tests of the targets and of sdk/target.
package exampledata

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Set is one of the example data sets.
type Set struct {
	Dir       string // mnist or fmnist
	Mean, Std float32
}

// The example data sets, with the normalization of their descriptors.
var (
	MNIST  = Set{Dir: "mnist", Mean: 0.1307, Std: 0.3081}
	FMNIST = Set{Dir: "fmnist", Mean: 0.286, Std: 0.353}
)

// Root is examples/data relative to a package two levels below the
// repository root (targets/NAME); tests of deeper packages set their own.
const Root = "../../examples/data"

// Images reads up to n images of split ("t10k" or "calib-1000") under
// root as a float32 tensor [n, 1, 28, 28] normalized with the set's mean
// and standard deviation.
func (s Set) Images(root, split string, n int) (*tensor.Tensor, error) {
	raw, dims, err := readIDX(filepath.Join(root, s.Dir, split+"-images-idx3-ubyte.gz"), 0x803, n)
	if err != nil {
		return nil, err
	}
	if len(dims) != 3 || dims[1] != 28 || dims[2] != 28 {
		return nil, fmt.Errorf("%s images: dims %v, want [N 28 28]", s.Dir, dims)
	}
	x := tensor.New(tensor.Float, dims[0], 1, 28, 28)
	for i, b := range raw {
		x.F32()[i] = (float32(b)/255 - s.Mean) / s.Std
	}
	return x, nil
}

// Labels reads up to n labels of split under root.
func (s Set) Labels(root, split string, n int) ([]int, error) {
	raw, _, err := readIDX(filepath.Join(root, s.Dir, split+"-labels-idx1-ubyte.gz"), 0x801, n)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(raw))
	for i, b := range raw {
		out[i] = int(b)
	}
	return out, nil
}

// readIDX reads the first n items of a gzipped IDX file of unsigned
// bytes, returning the data and the dimensions (the first one cut to n).
func readIDX(path string, magic uint32, n int) ([]byte, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var m uint32
	if err := binary.Read(z, binary.BigEndian, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if m != magic {
		return nil, nil, fmt.Errorf("%s: magic %#x, want %#x", path, m, magic)
	}
	dims := make([]int, magic&0xff)
	per := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(z, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		dims[i] = int(d)
		if i > 0 {
			per *= int(d)
		}
	}
	if n > 0 && n < dims[0] {
		dims[0] = n
	}
	raw := make([]byte, dims[0]*per)
	if _, err := io.ReadFull(z, raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return raw, dims, nil
}
