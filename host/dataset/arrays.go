package dataset

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
)

// arrayData is a data set backed by one in-memory NumPy array of inputs.
type arrayData struct {
	name     string
	n        int
	shape    []int // sample shape
	labels   []int // nil when unlabelled
	fill     func(i int, dst []float32)
	channels int
}

// openArrays opens the npy or npz data set of descriptor d.
func openArrays(name, dir string, d Descriptor) (Dataset, error) {
	var (
		inputs, labels  npyArray
		inName, lblName string
		haveLabels      bool
		err             error
	)
	switch d.Format {
	case FormatNPY:
		inName = resolve(dir, d.Inputs)
		if inputs, err = readNPYFile(inName); err != nil {
			return nil, fmt.Errorf("dataset %s: inputs file %s: %w", name, inName, err)
		}
		if d.Labels != "" {
			lblName = resolve(dir, d.Labels)
			if labels, err = readNPYFile(lblName); err != nil {
				return nil, fmt.Errorf("dataset %s: labels file %s: %w", name, lblName, err)
			}
			haveLabels = true
		}
	case FormatNPZ:
		path := resolve(dir, d.File)
		inputs, labels, inName, lblName, haveLabels, err = readNPZ(path, d.Inputs, d.Labels)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: npz file %s: %w", name, path, err)
		}
	}
	ds, err := newArrayData(inName, d, inputs)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: inputs %s: %w", name, inName, err)
	}
	if haveLabels {
		if ds.labels, err = labelsOf(labels, ds.n, inName, lblName); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
	}
	return ds, nil
}

// readNPYFile reads a .npy file.
func readNPYFile(path string) (npyArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return npyArray{}, notExist(err)
	}
	return readNPY(b)
}

// readNPZ reads the inputs array and, if present, the labels array of an
// .npz archive. Empty names pick the defaults described on Descriptor.
func readNPZ(path, inputs, labels string) (in, lbl npyArray, inName, lblName string, haveLabels bool, err error) {
	zr, closeFn, names, err := openNPZ(path)
	if err != nil {
		return in, lbl, "", "", false, err
	}
	defer closeFn()
	pick := func(want string, defaults []string, only bool) (string, error) {
		want = strings.TrimSuffix(want, ".npy")
		if want != "" {
			if !slices.Contains(names, want) {
				return "", errorf(ErrFormat, "no array %q in the archive (it holds %s)%s", want, strings.Join(names, ", "), suggest(want, names))
			}
			return want, nil
		}
		for _, d := range defaults {
			if slices.Contains(names, d) {
				return d, nil
			}
		}
		if only && len(names) == 1 {
			return names[0], nil
		}
		return "", nil
	}
	if inName, err = pick(inputs, []string{"inputs", "x"}, true); err != nil {
		return in, lbl, "", "", false, err
	}
	if inName == "" {
		return in, lbl, "", "", false, errorf(ErrDescriptor, `the archive holds arrays %s: set "inputs" to the one to use`, strings.Join(names, ", "))
	}
	if lblName, err = pick(labels, []string{"labels", "y"}, false); err != nil {
		return in, lbl, "", "", false, err
	}
	if in, err = readNPZArray(zr, zr.Keys(), inName); err != nil {
		return in, lbl, "", "", false, fmt.Errorf("array %q: %w", inName, err)
	}
	if lblName != "" {
		if lbl, err = readNPZArray(zr, zr.Keys(), lblName); err != nil {
			return in, lbl, "", "", false, fmt.Errorf("array %q: %w", lblName, err)
		}
	}
	return in, lbl, path + ":" + inName, path + ":" + lblName, lblName != "", nil
}

// readNPZArray reads one array of an archive by name (with or without the
// .npy suffix).
func readNPZArray(zr *npz.Reader, keys []string, name string) (npyArray, error) {
	key := name
	if !slices.Contains(keys, key) {
		key = name + ".npy"
	}
	rc, err := zr.Open(key)
	if err != nil {
		return npyArray{}, wrapf(ErrFormat, err, "cannot open")
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return npyArray{}, wrapf(ErrFormat, err, "cannot decompress")
	}
	return readNPY(b)
}

// newArrayData builds a data set over the inputs array.
func newArrayData(name string, d Descriptor, arr npyArray) (*arrayData, error) {
	if arr.shape[0] == 0 {
		return nil, errorf(ErrEmpty, "no samples (array shape %v)", arr.shape)
	}
	ds := &arrayData{name: name, n: arr.shape[0], shape: slices.Clone(arr.shape[1:])}
	size := sampleSize(ds.shape)
	if size == 0 {
		return nil, errorf(ErrEmpty, "samples have no elements (array shape %v)", arr.shape)
	}
	last, err := parseLayout(d.Layout)
	if err != nil {
		return nil, err
	}
	ds.channels = 1
	if len(ds.shape) > 0 {
		if last {
			ds.channels = ds.shape[len(ds.shape)-1]
		} else {
			ds.channels = ds.shape[0]
		}
	}
	scale := 1.0
	switch {
	case arr.kind == 'u' && arr.size == 1:
		scale = 1.0 / 255
	case arr.kind == 'u' && arr.size == 2:
		scale = 1.0 / 65535
	}
	norm, err := newNormalizer(d, ds.channels, scale, true)
	if err != nil {
		return nil, err
	}
	ds.fill = makeFill(arr.data, size, ds.channels, last, norm)
	return ds, nil
}

// makeFill returns a function that writes preprocessed sample i of data.
func makeFill(data any, size, channels int, last bool, norm normalizer) func(int, []float32) {
	switch s := data.(type) {
	case []uint8:
		return fillFunc(s, size, channels, last, norm)
	case []int8:
		return fillFunc(s, size, channels, last, norm)
	case []uint16:
		return fillFunc(s, size, channels, last, norm)
	case []int16:
		return fillFunc(s, size, channels, last, norm)
	case []uint32:
		return fillFunc(s, size, channels, last, norm)
	case []int32:
		return fillFunc(s, size, channels, last, norm)
	case []uint64:
		return fillFunc(s, size, channels, last, norm)
	case []int64:
		return fillFunc(s, size, channels, last, norm)
	case []float32:
		return fillFunc(s, size, channels, last, norm)
	case []float64:
		return fillFunc(s, size, channels, last, norm)
	}
	return func(int, []float32) {}
}

// number is the set of element types of an npy array.
type number interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32 | ~uint64 | ~int64 | ~float32 | ~float64
}

// fillFunc returns the sample writer for typed data.
func fillFunc[T number](data []T, size, channels int, last bool, norm normalizer) func(int, []float32) {
	return func(i int, dst []float32) {
		src := data[i*size : (i+1)*size]
		if last {
			for j, v := range src {
				dst[j] = norm.apply(j%channels, float64(v))
			}
			return
		}
		inner := size / channels
		for j, v := range src {
			dst[j] = norm.apply(j/inner, float64(v))
		}
	}
}

// labelsOf converts an integer labels array with n entries, shape (n,) or
// (n, 1), to ints.
func labelsOf(arr npyArray, n int, inName, lblName string) ([]int, error) {
	if arr.kind != 'u' && arr.kind != 'i' {
		return nil, errorf(ErrFormat, "labels %s are %s, want integers", lblName, arr.dtype)
	}
	if len(arr.shape) > 2 || (len(arr.shape) == 2 && arr.shape[1] != 1) {
		return nil, errorf(ErrFormat, "labels %s have shape %v, want (N,) or (N, 1)", lblName, arr.shape)
	}
	if arr.shape[0] != n {
		return nil, errorf(ErrLabelCount, "%d labels in %s but %d samples in %s", arr.shape[0], lblName, n, inName)
	}
	switch s := arr.data.(type) {
	case []uint8:
		return labelInts(s, lblName)
	case []int8:
		return labelInts(s, lblName)
	case []uint16:
		return labelInts(s, lblName)
	case []int16:
		return labelInts(s, lblName)
	case []uint32:
		return labelInts(s, lblName)
	case []int32:
		return labelInts(s, lblName)
	case []uint64:
		return labelInts(s, lblName)
	case []int64:
		return labelInts(s, lblName)
	}
	return nil, errorf(ErrFormat, "labels %s are %s, want integers", lblName, arr.dtype)
}

// integer is the set of integer element types of an npy array.
type integer interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32 | ~uint64 | ~int64
}

// labelInts converts labels to ints, refusing negative or huge values.
func labelInts[T integer](s []T, name string) ([]int, error) {
	out := make([]int, len(s))
	for i, v := range s {
		// Negative values wrap to huge ones.
		if uint64(v) > math.MaxInt32 {
			return nil, errorf(ErrFormat, "labels %s: label %v of sample %d is not a class index", name, v, i)
		}
		out[i] = int(v)
	}
	return out, nil
}

// Len implements Dataset.
func (ds *arrayData) Len() int { return ds.n }

// SampleShape implements Dataset.
func (ds *arrayData) SampleShape() []int { return ds.shape }

// Labelled implements Dataset.
func (ds *arrayData) Labelled() bool { return ds.labels != nil }

// Read implements Dataset.
func (ds *arrayData) Read(i int, dst []float32) (int, error) {
	if err := checkRead(ds, i, dst); err != nil {
		return -1, fmt.Errorf("%s: %w", ds.name, err)
	}
	ds.fill(i, dst)
	if ds.labels == nil {
		return -1, nil
	}
	return ds.labels[i], nil
}

// String describes the data set.
func (ds *arrayData) String() string {
	return fmt.Sprintf("array %s: %d samples of shape %v, labelled=%v", ds.name, ds.n, ds.shape, ds.Labelled())
}
