package dataset

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
)

// Array is every sample of one model input, as stored: Shape[0] indexes
// the samples and Data holds them in row-major order as a []uint8, []int8,
// []uint16, []int16, []uint32, []int32, []uint64, []int64, []float32 or
// []float64.
type Array struct {
	// Name is the model input the array feeds.
	Name  string
	Shape []int
	Data  any
}

// Sample returns the shape of one sample (Shape without its first axis).
func (a Array) Sample() []int { return a.Shape[1:] }

// Named is implemented by data sets that feed model inputs by name: an
// .npz archive whose arrays are named after the model's inputs. Its
// Dataset methods describe the first array (Read converts it to float32).
type Named interface {
	Dataset
	// Arrays returns one array per fed input, in the order of the model's
	// inputs. Callers must not modify them.
	Arrays() []Array
	// Labels returns one class per sample, or nil when unlabelled.
	Labels() []int
}

// WithInputNames tells Open the names of the model's inputs. An .npz
// archive (without a descriptor "inputs" key) that holds arrays named
// after some of them opens as a Named data set.
func WithInputNames(names []string) Option {
	return func(c *openConfig) { c.inputNames = slices.Clone(names) }
}

// namedData is a Named data set read from an .npz archive.
type namedData struct {
	name   string
	n      int
	arrays []Array
	labels []int // nil when unlabelled
}

// NewNamed returns a Named data set over arrays (at least one, each with
// the same number of samples along its first axis) and optional labels.
// name describes it in messages.
func NewNamed(name string, arrays []Array, labels []int) (Named, error) {
	if len(arrays) == 0 {
		return nil, errorf(ErrEmpty, "%s: no arrays", name)
	}
	nd := &namedData{name: name, n: -1, labels: labels}
	for _, a := range arrays {
		if len(a.Shape) == 0 {
			return nil, errorf(ErrFormat, "%s: array %q has no sample axis", name, a.Name)
		}
		if n, ok := elements(a.Data); !ok || n != sampleSize(a.Shape) {
			return nil, errorf(ErrFormat, "%s: array %q of shape %v holds %d values", name, a.Name, a.Shape, n)
		}
		if nd.n < 0 {
			nd.n = a.Shape[0]
		} else if a.Shape[0] != nd.n {
			return nil, errorf(ErrFormat, "%s: array %q holds %d samples but %q holds %d (the first axis indexes samples)", name, a.Name, a.Shape[0], arrays[0].Name, nd.n)
		}
		nd.arrays = append(nd.arrays, a)
	}
	if nd.n == 0 {
		return nil, errorf(ErrEmpty, "%s: no samples", name)
	}
	if labels != nil && len(labels) != nd.n {
		return nil, errorf(ErrLabelCount, "%s: %d labels for %d samples", name, len(labels), nd.n)
	}
	return nd, nil
}

// elements is the length of an array's data slice.
func elements(data any) (int, bool) {
	switch d := data.(type) {
	case []uint8:
		return len(d), true
	case []int8:
		return len(d), true
	case []uint16:
		return len(d), true
	case []int16:
		return len(d), true
	case []uint32:
		return len(d), true
	case []int32:
		return len(d), true
	case []uint64:
		return len(d), true
	case []int64:
		return len(d), true
	case []float32:
		return len(d), true
	case []float64:
		return len(d), true
	}
	return 0, false
}

// readNamedNPZ opens the arrays of an .npz archive named after model
// inputs, and its labels array ("labels" or "y", or the descriptor's
// labels key). It returns nil, nil when no array is named after an input.
func readNamedNPZ(name, path string, d Descriptor, inputs []string) (*namedData, error) {
	if d.Inputs != "" || len(inputs) == 0 {
		return nil, nil
	}
	zr, closeFn, names, err := openNPZ(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: npz file %s: %w", name, path, err)
	}
	defer closeFn()
	var fed []string
	for _, in := range inputs {
		if slices.Contains(names, in) {
			fed = append(fed, in)
		}
	}
	if len(fed) == 0 {
		return nil, nil
	}
	if d.Mean != nil || d.Std != nil || d.Scale != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, errorf(ErrDescriptor,
			`"mean", "std" and "scale" apply to one array of samples; arrays named after model inputs (%s) are fed as they are`, strings.Join(fed, ", ")))
	}
	var arrays []Array
	for _, in := range fed {
		arr, err := readNPZArray(zr, zr.Keys(), in)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: npz file %s: array %q: %w", name, path, in, err)
		}
		arrays = append(arrays, Array{Name: in, Shape: arr.shape, Data: arr.data})
	}
	named, err := NewNamed("npz file "+path, arrays, nil)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	nd := named.(*namedData)
	nd.name = path
	lbl := strings.TrimSuffix(d.Labels, ".npy")
	if lbl == "" {
		for _, c := range []string{"labels", "y"} {
			if slices.Contains(names, c) && !slices.Contains(fed, c) {
				lbl = c
				break
			}
		}
	} else if !slices.Contains(names, lbl) {
		return nil, fmt.Errorf("dataset %s: npz file %s: %w", name, path, errorf(ErrFormat,
			"no array %q in the archive (it holds %s)%s", lbl, strings.Join(names, ", "), suggest(lbl, names)))
	}
	if lbl != "" {
		arr, err := readNPZArray(zr, zr.Keys(), lbl)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: npz file %s: array %q: %w", name, path, lbl, err)
		}
		if nd.labels, err = labelsOf(arr, nd.n, path+":"+fed[0], path+":"+lbl); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
	}
	return nd, nil
}

// openNPZ opens an archive and lists its array names (without ".npy").
func openNPZ(path string) (*npz.Reader, func(), []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, notExist(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	zr, err := npz.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, nil, errorf(ErrFormat, "not an .npz (zip) archive")
	}
	var names []string
	for _, k := range zr.Keys() {
		names = append(names, strings.TrimSuffix(k, ".npy"))
	}
	return zr, func() { f.Close() }, names, nil
}

// Arrays implements Named.
func (nd *namedData) Arrays() []Array { return nd.arrays }

// Labels implements Named.
func (nd *namedData) Labels() []int { return nd.labels }

// Len implements Dataset.
func (nd *namedData) Len() int { return nd.n }

// SampleShape implements Dataset: the first array's sample shape.
func (nd *namedData) SampleShape() []int { return nd.arrays[0].Sample() }

// Labelled implements Dataset.
func (nd *namedData) Labelled() bool { return nd.labels != nil }

// Read implements Dataset: the first array's sample, as float32.
func (nd *namedData) Read(i int, dst []float32) (int, error) {
	if err := checkRead(nd, i, dst); err != nil {
		return -1, fmt.Errorf("%s: %w", nd.name, err)
	}
	size := len(dst)
	makeFill(nd.arrays[0].Data, size, 1, false, normalizer{scale: 1, mean: []float64{0}, std: []float64{1}})(i, dst)
	if nd.labels == nil {
		return -1, nil
	}
	return nd.labels[i], nil
}

// String describes the data set.
func (nd *namedData) String() string {
	parts := make([]string, len(nd.arrays))
	for i, a := range nd.arrays {
		parts[i] = fmt.Sprintf("%s %s", a.Name, FormatShape(a.Sample(), false))
	}
	return fmt.Sprintf("arrays %s: %d samples of %s, labelled=%v", nd.name, nd.n, strings.Join(parts, ", "), nd.Labelled())
}
