package feed

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Input is a model input that pot feeds.
type Input struct {
	Name  string
	DType potv1.DataType
	// Shape has -1 for symbolic dimensions; nil when the model states no
	// shape.
	Shape []int
	// Dims are the model's own dimensions, for messages.
	Dims []*potv1.Dim
}

// String formats the input as in messages: "x" [N 1 28 28].
func (in Input) String() string { return fmt.Sprintf("%q %s", in.Name, in.shapeString()) }

func (in Input) shapeString() string {
	if in.Shape == nil {
		return "(shape not stated)"
	}
	if len(in.Dims) != len(in.Shape) {
		return dataset.FormatShape(in.Shape, false)
	}
	return graph.FormatDims(in.Dims)
}

// Inputs lists the inputs of g that a caller feeds: graph inputs without
// an initializer of the same name.
func Inputs(g *potv1.Graph) []Input {
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	var out []Input
	for _, vi := range g.GetInputs() {
		if inits[vi.GetName()] {
			continue
		}
		in := Input{Name: vi.GetName(), DType: vi.GetDtype(), Dims: vi.GetShape()}
		if in.DType == potv1.DataType_DATA_TYPE_UNDEFINED {
			in.DType = potv1.DataType_DATA_TYPE_FLOAT
		}
		if vi.GetHasShape() {
			in.Shape = make([]int, len(vi.GetShape()))
			for i, d := range vi.GetShape() {
				in.Shape[i] = -1
				if sz, ok := d.GetValue().(*potv1.Dim_Size); ok && sz.Size > 0 {
					in.Shape[i] = int(sz.Size)
				}
			}
		}
		out = append(out, in)
	}
	return out
}

// Names returns the inputs' names.
func Names(ins []Input) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Name
	}
	return out
}

// Feed is data bound to every input of a model.
type Feed struct {
	// Samples is the number of samples.
	Samples int
	// Labels holds one class per sample, or is nil.
	Labels []int
	// Inputs are the fed inputs, Tensors their data (samples first).
	Inputs  []Input
	Tensors []*potv1.Tensor
	// Whole marks inputs fed whole samples (their batch dimension
	// included).
	Whole []bool
	// Batch is the number of samples one run holds: 1 when an input is fed
	// whole samples, the model's fixed batch when it has one, else 0 (the
	// target's choice). BatchReason says why when it is not 0.
	Batch       int
	BatchReason string
	// Sources says, per input, what feeds it (for messages).
	Sources []string
}

// Dataset returns the feed as the protocol's data set.
func (f *Feed) Dataset(name string) *plugins.Dataset {
	return &plugins.Dataset{Name: name, Inputs: Names(f.Inputs), Tensors: f.Tensors}
}

// Describe is a one-line summary: what feeds each input and the batch.
func (f *Feed) Describe() string {
	parts := make([]string, len(f.Inputs))
	for i, in := range f.Inputs {
		parts[i] = in.Name + " <- " + f.Sources[i]
	}
	s := fmt.Sprintf("%d samples: %s", f.Samples, strings.Join(parts, "; "))
	if f.Batch > 0 {
		s += fmt.Sprintf("; batches of %d (%s)", f.Batch, f.BatchReason)
	}
	return s
}

// Options of Bind.
type Options struct {
	// Constants override those of the data set's descriptor.
	Constants map[string]dataset.Constant
	// Progress, when set, is told how many samples of the data set's main
	// array were read.
	Progress func(done, total int)
}

// Bind binds a data set (and constants) to a model's inputs. Every check
// the contract asks for happens here, before any sample is run.
func Bind(ctx context.Context, inputs []Input, ds dataset.Dataset, opts Options) (*Feed, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("the model has no input to feed")
	}
	consts := map[string]dataset.Constant{}
	for k, v := range dataset.ConstantsOf(ds) {
		consts[k] = v
	}
	for k, v := range opts.Constants {
		consts[k] = v
	}
	for name := range consts {
		if !slices.ContainsFunc(inputs, func(in Input) bool { return in.Name == name }) {
			return nil, fmt.Errorf("constant %q: the model has no input of that name (its inputs: %s)%s",
				name, strings.Join(Names(inputs), ", "), dataset.Suggest(name, Names(inputs)))
		}
	}
	named, isNamed := dataset.NamedOf(ds)
	arrays := map[string]dataset.Array{}
	if isNamed {
		for _, a := range named.Arrays() {
			arrays[a.Name] = a
		}
	}
	n := ds.Len()
	batch := batchDims(inputs)
	f := &Feed{Samples: n, Inputs: inputs, Tensors: make([]*potv1.Tensor, len(inputs)),
		Whole: make([]bool, len(inputs)), Sources: make([]string, len(inputs))}
	// Which input does a single-array data set feed? The one that no
	// constant feeds.
	main := -1
	if !isNamed {
		var left []string
		for i, in := range inputs {
			if _, ok := consts[in.Name]; !ok {
				left = append(left, in.Name)
				main = i
			}
		}
		switch {
		case len(left) == 0:
			return nil, fmt.Errorf("every model input (%s) is given a constant: nothing is left for the data %s to feed", strings.Join(Names(inputs), ", "), dataset.String(ds))
		case len(left) > 1:
			return nil, fmt.Errorf("the model has %d inputs (%s) and the data %s feeds one: give an .npz with one array per input, named after it (first axis = samples), or constants for the others (\"constants\": {%q: 0} in the data set descriptor, or --constant %s=VALUE)",
				len(inputs), strings.Join(describeAll(inputs), ", "), dataset.String(ds), left[1], left[1])
		}
	}
	for i, in := range inputs {
		var err error
		switch c, isConst := consts[in.Name]; {
		case isConst:
			f.Tensors[i], err = constTensor(in, c, n)
			f.Whole[i] = true
			f.Sources[i] = "constant " + c.String()
		case isNamed:
			a, ok := arrays[in.Name]
			if !ok {
				have := make([]string, 0, len(arrays))
				for k := range arrays {
					have = append(have, k)
				}
				sort.Strings(have)
				return nil, fmt.Errorf("input %s: no array named %q in the data (it has %s): add one, or give a constant (\"constants\": {%q: ...} in the data set descriptor, or --constant %s=VALUE)",
					in, in.Name, strings.Join(have, ", "), in.Name, in.Name)
			}
			f.Tensors[i], f.Whole[i], err = arrayTensor(in, a, batch)
			f.Sources[i] = fmt.Sprintf("array %q %s", a.Name, dataset.FormatShape(a.Sample(), false))
		case i == main:
			f.Tensors[i], f.Whole[i], f.Labels, err = mainTensor(ctx, in, ds, batch, opts.Progress)
			f.Sources[i] = dataset.String(ds)
		}
		if err != nil {
			return nil, err
		}
	}
	if !ds.Labelled() {
		f.Labels = nil
	} else if isNamed {
		f.Labels = named.Labels()
	}
	f.batching()
	return f, nil
}

func describeAll(ins []Input) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Name + " " + in.shapeString()
	}
	return out
}

// batching sets Batch and BatchReason as the engine of a target will
// batch (see package doc).
func (f *Feed) batching() {
	for i, in := range f.Inputs {
		if f.Whole[i] {
			f.Batch, f.BatchReason = 1, fmt.Sprintf("input %q is fed whole samples, one per run", in.Name)
			return
		}
	}
	for _, in := range f.Inputs {
		if len(in.Shape) > 0 && in.Shape[0] > 0 {
			f.Batch, f.BatchReason = in.Shape[0], fmt.Sprintf("input %q has a fixed batch of %d", in.Name, in.Shape[0])
			return
		}
	}
}

func sampleSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// fits reports whether a sample shape matches a model shape, symbolic
// dimensions (-1) matching any size.
func fits(sample, model []int) bool {
	if len(sample) != len(model) {
		return false
	}
	for i, d := range model {
		if d > 0 && d != sample[i] {
			return false
		}
	}
	return true
}

// mode decides how samples of shape sample feed in: whole (with the
// input's rank) or stacked (one dimension less). batch names the model's
// batch dimensions (symbolic first dimensions of its inputs). ok is
// false when neither fits.
func mode(in Input, sample []int, batch map[string]bool) (whole, ok bool, err error) {
	if in.Shape == nil {
		return false, true, nil
	}
	if fits(sample, in.Shape) {
		return true, true, nil
	}
	if len(in.Shape) > 0 && fits(sample, in.Shape[1:]) {
		if axis := batchAxis(in, batch); axis > 0 {
			return false, false, fmt.Errorf("input %s has its batch on axis %d, so its samples cannot be stacked along a new first axis: give whole samples of the input's shape (%s each)",
				in, axis, dataset.FormatShape(unitBatch(in.Shape, axis), false))
		}
		return false, true, nil
	}
	return false, false, nil
}

// batchDims are the names of the symbolic first dimensions of the inputs.
func batchDims(inputs []Input) map[string]bool {
	out := map[string]bool{}
	for _, in := range inputs {
		if len(in.Dims) > 0 {
			if p := in.Dims[0].GetParam(); p != "" {
				out[p] = true
			}
		}
	}
	return out
}

// batchAxis is the axis past the first where an input has a batch
// dimension (by name), or -1.
func batchAxis(in Input, batch map[string]bool) int {
	for i, d := range in.Dims {
		if i > 0 && d.GetParam() != "" && batch[d.GetParam()] {
			return i
		}
	}
	return -1
}

// unitBatch is a shape with the batch axis 1 and other symbolic sizes ?.
func unitBatch(shape []int, axis int) []int {
	out := slices.Clone(shape)
	out[axis] = 1
	return out
}

func shapeError(in Input, what string, sample []int) error {
	return fmt.Errorf("input %s: %s gives samples of shape %s; a sample must have the input's shape (its batch dimension included) or that shape without the first (batch) dimension",
		in, what, dataset.FormatShape(sample, false))
}

// arrayTensor checks an array against its input and converts it.
func arrayTensor(in Input, a dataset.Array, batch map[string]bool) (*potv1.Tensor, bool, error) {
	whole, ok, err := mode(in, a.Sample(), batch)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, shapeError(in, fmt.Sprintf("array %q", a.Name), a.Sample())
	}
	t, err := encode(in, a.Shape, a.Data)
	if err != nil {
		return nil, false, fmt.Errorf("input %s: array %q: %w", in, a.Name, err)
	}
	return t, whole, nil
}

// mainTensor reads a single-array data set for its input.
func mainTensor(ctx context.Context, in Input, ds dataset.Dataset, batch map[string]bool, progress func(done, total int)) (_ *potv1.Tensor, whole bool, labels []int, _ error) {
	sample := ds.SampleShape()
	whole, ok, err := mode(in, sample, batch)
	if err != nil {
		return nil, false, nil, err
	}
	dims := sample
	if !ok {
		// Images may leave out dimensions of size 1 ([28 28] for
		// [N 1 28 28]), or have them where the model has none.
		if err := dataset.CheckShape(sample, in.Name, in.Shape); err != nil {
			return nil, false, nil, fmt.Errorf("%w (%s)", err, dataset.String(ds))
		}
		dims = in.Shape[1:]
	}
	n := ds.Len()
	per := sampleSize(sample)
	buf := make([]float32, n*per)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if progress != nil {
		progress(0, n)
	}
	labels, err = dataset.ReadBatch(ctx, ds, idx, buf)
	if err != nil {
		return nil, false, nil, err
	}
	if progress != nil {
		progress(n, n)
	}
	t, err := encode(in, append([]int{n}, dims...), buf)
	if err != nil {
		return nil, false, nil, fmt.Errorf("input %s: %w", in, err)
	}
	return t, whole, labels, nil
}

// constTensor repeats a constant for n samples, as whole samples.
func constTensor(in Input, c dataset.Constant, n int) (*potv1.Tensor, error) {
	shape := c.Shape
	if c.Fill() {
		if in.Shape == nil {
			return nil, fmt.Errorf("constant %q: the model does not state the input's shape: give its whole value as a nested list", in.Name)
		}
		shape = make([]int, len(in.Shape))
		for i, d := range in.Shape {
			shape[i] = max(d, 1)
		}
	} else if in.Shape != nil && !fits(shape, in.Shape) {
		return nil, fmt.Errorf("constant %q of shape %s does not fit the model input %s", in.Name, dataset.FormatShape(shape, false), in)
	}
	per, err := dataset.BuildSize(n, shape)
	if err != nil {
		return nil, fmt.Errorf("constant %q: %w", in.Name, err)
	}
	vals := make([]float64, n*per)
	for s := 0; s < n; s++ {
		row := vals[s*per : (s+1)*per]
		if c.Fill() {
			for j := range row {
				row[j] = c.Values[0]
			}
		} else {
			copy(row, c.Values)
		}
	}
	t, err := encode(in, append([]int{n}, shape...), vals)
	if err != nil {
		return nil, fmt.Errorf("constant %q: %w", in.Name, err)
	}
	return t, nil
}

// encode converts data to the input's element type, as a tensor of the
// given dims (samples first).
func encode(in Input, dims []int, data any) (*potv1.Tensor, error) {
	n := sampleSize(dims)
	t := &potv1.Tensor{Name: in.Name, Dtype: in.DType, Dims: make([]int64, len(dims))}
	for i, d := range dims {
		t.Dims[i] = int64(d)
	}
	get, isFloat, err := values(data, n)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	// integral checks that every value is an integer in [lo, hi].
	integral := func(lo, hi float64) error {
		for i := range n {
			if v := get(i); (isFloat && v != math.Trunc(v)) || v < lo || v > hi {
				return fmt.Errorf("value %v does not fit the model's %s input", v, typeName(in.DType))
			}
		}
		return nil
	}
	switch in.DType {
	case potv1.DataType_DATA_TYPE_FLOAT:
		t.Data = make([]byte, 4*n)
		for i := range n {
			le.PutUint32(t.Data[4*i:], math.Float32bits(float32(get(i))))
		}
	case potv1.DataType_DATA_TYPE_DOUBLE:
		t.Data = make([]byte, 8*n)
		for i := range n {
			le.PutUint64(t.Data[8*i:], math.Float64bits(get(i)))
		}
	case potv1.DataType_DATA_TYPE_INT64:
		ints, isInt := data.([]int64)
		if !isInt {
			if err := integral(-(1 << 53), 1<<53); err != nil {
				return nil, err
			}
		}
		t.Data = make([]byte, 8*n)
		for i := range n {
			v := int64(get(i))
			if isInt {
				v = ints[i]
			}
			le.PutUint64(t.Data[8*i:], uint64(v))
		}
	case potv1.DataType_DATA_TYPE_INT32:
		if err := integral(math.MinInt32, math.MaxInt32); err != nil {
			return nil, err
		}
		t.Data = make([]byte, 4*n)
		for i := range n {
			le.PutUint32(t.Data[4*i:], uint32(int32(get(i))))
		}
	case potv1.DataType_DATA_TYPE_UINT8, potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_BOOL:
		lo, hi := 0.0, 255.0
		switch in.DType {
		case potv1.DataType_DATA_TYPE_INT8:
			lo, hi = -128, 127
		case potv1.DataType_DATA_TYPE_BOOL:
			hi = 1
		}
		if err := integral(lo, hi); err != nil {
			return nil, err
		}
		t.Data = make([]byte, n)
		for i := range n {
			t.Data[i] = byte(int64(get(i)))
		}
	default:
		return nil, fmt.Errorf("pot cannot feed %s inputs", typeName(in.DType))
	}
	return t, nil
}

// typeName is an element type's ONNX name (float, int64, ...).
func typeName(dt potv1.DataType) string {
	return strings.ToLower(strings.TrimPrefix(dt.String(), "DATA_TYPE_"))
}

// values returns an accessor of data's elements as float64 and whether
// they are floating point; data must hold n elements.
func values(data any, n int) (func(int) float64, bool, error) {
	var (
		get     func(int) float64
		isFloat bool
		have    int
	)
	switch d := data.(type) {
	case []float32:
		get, isFloat, have = func(i int) float64 { return float64(d[i]) }, true, len(d)
	case []float64:
		get, isFloat, have = func(i int) float64 { return d[i] }, true, len(d)
	case []uint8:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []int8:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []uint16:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []int16:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []uint32:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []int32:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []uint64:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	case []int64:
		get, have = func(i int) float64 { return float64(d[i]) }, len(d)
	default:
		return nil, false, fmt.Errorf("data of type %T", data)
	}
	if have != n {
		return nil, false, fmt.Errorf("%d values for %d elements", have, n)
	}
	return get, isFloat, nil
}

// Main returns the input a data set of one array feeds: the only input
// that no constant feeds.
func Main(inputs []Input, consts map[string]dataset.Constant) (Input, bool) {
	var left []Input
	for _, in := range inputs {
		if _, ok := consts[in.Name]; !ok {
			left = append(left, in)
		}
	}
	if len(left) != 1 {
		return Input{}, false
	}
	return left[0], true
}
