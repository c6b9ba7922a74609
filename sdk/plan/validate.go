package plan

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// MaxBits is the widest quantizer Validate accepts: levels of more than
// 32 bits do not fit the protocol's int64 level bounds comfortably and no
// hardware config describes them.
const MaxBits = 32

// maxProblemLines caps the problems an InvalidError prints.
const maxProblemLines = 10

// InvalidError lists what is wrong with a plan, one problem per entry, in
// plan order.
type InvalidError struct {
	Problems []string
}

// Error is the one problem, or the count followed by one problem per
// line (at most 10, then how many more).
func (e *InvalidError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for i, p := range e.Problems {
		if i == maxProblemLines {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// Validate checks a plan against the graph it was made for, g with its
// subgraphs (quantizers, tensor updates and precisions may name tensors
// and nodes of If, Loop and Scan bodies at any depth), and returns an
// *InvalidError listing every problem, or nil:
//
//   - every quantizer has a unique id and a location; its tensor exists,
//     its node exists and has the input port, which holds the tensor;
//     a weight quantizer sits on a constant;
//   - at most one quantizer sits on the edge of a tensor, and one on each
//     node input port (the protocol has no stacked quantizers);
//   - bits are 1 to MaxBits, levels at least 2 and at most 2^bits, and
//     level_low..level_high, when given, span exactly levels;
//   - the four ranges have one equal, non-zero length; every range is
//     finite and not empty (low < high); a per-tensor quantizer has one
//     range; a per-channel one has an axis inside the tensor's rank and
//     one range per channel of that axis, when the tensor's shape is
//     known (an initializer, a Constant or a value info with a shape);
//   - quantizers of one unified group share their input ranges;
//     consumers name nodes of the model;
//   - tensor updates replace initializers (of any scope) with the same
//     type, dimensions and data size, one update per initializer;
//   - precision overrides name nodes and known precisions;
//   - need_rescale names nodes.
//
// Validate does not modify g or p.
func Validate(g *potv1.Graph, p *potv1.QuantizationPlan) error {
	if p == nil {
		return nil
	}
	v := &validator{x: graph.NewIndex(g), shapes: shapes(g)}
	ids := map[string]int{}
	edges := map[string]int{}
	ports := map[string]int{}
	groups := map[string]int{}
	qs := p.GetQuantizers()
	for i, q := range qs {
		where := v.where(i, q)
		if id := q.GetId(); id == "" {
			v.add("%s: no id", where)
		} else if j, ok := ids[id]; ok {
			v.add("%s: id %q is quantizer %d's too", where, id, j)
		} else {
			ids[id] = i
		}
		v.location(i, q, where, edges, ports)
		v.levels(q, where)
		v.ranges(q, where)
		if grp := q.GetUnifiedGroup(); grp != "" {
			if j, ok := groups[grp]; !ok {
				groups[grp] = i
			} else if first := qs[j]; !slices.Equal(first.GetInputLow(), q.GetInputLow()) || !slices.Equal(first.GetInputHigh(), q.GetInputHigh()) {
				v.add("%s: unified group %q, but its ranges differ from quantizer %d's", where, grp, j)
			}
		}
		for _, c := range q.GetConsumers() {
			if v.x.Node(c) == nil {
				v.add("%s: consumer %q: no such node in the model", where, c)
			}
		}
	}
	updated := map[string]bool{}
	for _, u := range p.GetTensorUpdates() {
		name := u.GetName()
		orig := v.x.Constant(name)
		switch {
		case orig == nil:
			v.add("tensor update %q: no such initializer or Constant output in the model", name)
		case updated[name]:
			v.add("tensor update %q: given twice", name)
		case orig.GetDtype() != u.GetDtype() || !slices.Equal(orig.GetDims(), u.GetDims()):
			v.add("tensor update %q: %v %v replaces %v %v (type and dimensions must match)", name, u.GetDtype(), u.GetDims(), orig.GetDtype(), orig.GetDims())
		case len(orig.GetData()) > 0 && len(orig.GetData()) != len(u.GetData()):
			v.add("tensor update %q: %d data bytes replace %d", name, len(u.GetData()), len(orig.GetData()))
		}
		updated[name] = true
	}
	for _, pr := range p.GetPrecisions() {
		if v.x.Node(pr.GetNode()) == nil {
			v.add("precision of node %q: no such node in the model", pr.GetNode())
		}
		if _, ok := potv1.Precision_name[int32(pr.GetPrecision())]; !ok {
			v.add("precision of node %q: unknown precision %d", pr.GetNode(), pr.GetPrecision())
		}
	}
	for _, n := range p.GetNeedRescale() {
		if v.x.Node(n) == nil {
			v.add("need_rescale %q: no such node in the model", n)
		}
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &InvalidError{Problems: v.problems}
}

type validator struct {
	x        *graph.Index
	shapes   map[string][]int64 // -1: unknown dimension
	problems []string
}

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// where names quantizer i by its location, as in `quantizer 3 on tensor
// "x"` or `quantizer 3 on input 1 of node "conv"`.
func (v *validator) where(i int, q *potv1.Quantizer) string {
	loc := q.GetLocation()
	switch {
	case loc.GetNode() != "":
		return fmt.Sprintf("quantizer %d on input %d of node %q", i, loc.GetInput(), loc.GetNode())
	case loc.GetTensor() != "":
		return fmt.Sprintf("quantizer %d on tensor %q", i, loc.GetTensor())
	}
	return fmt.Sprintf("quantizer %d", i)
}

func (v *validator) location(i int, q *potv1.Quantizer, where string, edges, ports map[string]int) {
	loc := q.GetLocation()
	tensor := loc.GetTensor()
	if loc.GetNode() != "" {
		n := v.x.Node(loc.GetNode())
		in := int(loc.GetInput())
		switch {
		case n == nil:
			v.add("%s: no such node in the model", where)
			return
		case in < 0 || in >= len(n.GetInputs()) || n.GetInputs()[in] == "":
			v.add("%s: node %q (%s) has no input %d", where, n.GetName(), n.GetOpType(), in)
			return
		case tensor != "" && n.GetInputs()[in] != tensor:
			v.add("%s: that input is %q, not %q", where, n.GetInputs()[in], tensor)
			return
		}
		key := fmt.Sprintf("%s\x00%d", n.GetName(), in)
		if j, ok := ports[key]; ok {
			v.add("%s: quantizer %d quantizes that input already", where, j)
		}
		ports[key] = i
		tensor = n.GetInputs()[in]
	} else {
		if tensor == "" {
			v.add("%s: no location (neither tensor nor node)", where)
			return
		}
		if v.x.DefiningGraph(tensor) == nil {
			v.add("%s: no such tensor in the model", where)
			return
		}
		if j, ok := edges[tensor]; ok {
			v.add("%s: quantizer %d quantizes that tensor already", where, j)
		}
		edges[tensor] = i
	}
	if q.GetWeights() && v.x.Constant(tensor) == nil {
		v.add("%s: quantizes weights, but %q is not a constant", where, tensor)
	}
	if q.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL {
		dims, known := v.shapes[tensor]
		axis := int(q.GetAxis())
		n := len(q.GetInputLow())
		switch {
		case !known:
		case axis < 0 || axis >= len(dims):
			v.add("%s: channel axis %d is outside the %d dimensions of %q", where, axis, len(dims), tensor)
		case dims[axis] > 0 && n > 0 && int64(n) != dims[axis]:
			v.add("%s: %d per-channel ranges for the %d channels of axis %d of %q", where, n, dims[axis], axis, tensor)
		}
	}
}

func (v *validator) levels(q *potv1.Quantizer, where string) {
	bits, levels := q.GetBits(), q.GetLevels()
	if bits < 1 || bits > MaxBits {
		v.add("%s: %d bits, want 1 to %d", where, bits, MaxBits)
	}
	switch {
	case levels < 2:
		v.add("%s: %d levels, want at least 2", where, levels)
	case bits >= 1 && bits <= MaxBits && levels > int64(1)<<bits:
		v.add("%s: %d levels do not fit %d bits", where, levels, bits)
	}
	lo, hi := q.GetLevelLow(), q.GetLevelHigh()
	if (lo != 0 || hi != 0) && (hi <= lo || hi-lo+1 != levels) {
		v.add("%s: levels [%d, %d] are not %d levels", where, lo, hi, levels)
	}
}

func (v *validator) ranges(q *potv1.Quantizer, where string) {
	il, ih, ol, oh := q.GetInputLow(), q.GetInputHigh(), q.GetOutputLow(), q.GetOutputHigh()
	n := len(il)
	if n == 0 || len(ih) != n || len(ol) != n || len(oh) != n {
		v.add("%s: ranges have lengths %d/%d/%d/%d (input low/high, output low/high), want equal and non-zero", where, n, len(ih), len(ol), len(oh))
		return
	}
	if q.GetGranularity() != potv1.Granularity_GRANULARITY_PER_CHANNEL && n != 1 {
		v.add("%s: per-tensor, but has %d ranges", where, n)
	}
	for c := range n {
		if !finite(il[c], ih[c], ol[c], oh[c]) || !(ih[c] > il[c]) || !(oh[c] > ol[c]) {
			v.add("%s: channel %d: range [%g, %g] -> [%g, %g] is empty or not finite", where, c, il[c], ih[c], ol[c], oh[c])
			return
		}
	}
}

func finite(vs ...float32) bool {
	for _, x := range vs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// shapes collects the known dimensions of the tensors of g and its
// subgraphs: initializers, Constant outputs and value infos with a shape
// (-1 for a dimension without a size).
func shapes(g *potv1.Graph) map[string][]int64 {
	out := map[string][]int64{}
	for _, sg := range graph.Graphs(g) {
		for _, vis := range [][]*potv1.ValueInfo{sg.GetInputs(), sg.GetOutputs(), sg.GetValueInfo()} {
			for _, vi := range vis {
				if !vi.GetHasShape() {
					continue
				}
				dims := make([]int64, len(vi.GetShape()))
				for i, d := range vi.GetShape() {
					dims[i] = -1
					if s, ok := d.GetValue().(*potv1.Dim_Size); ok {
						dims[i] = s.Size
					}
				}
				out[vi.GetName()] = dims
			}
		}
		for _, n := range sg.GetNodes() {
			if n.GetOpType() == "Constant" && n.GetDomain() == "" && len(n.GetOutputs()) == 1 {
				if a := graph.Attr(n, "value"); a != nil && a.GetT() != nil {
					out[n.GetOutputs()[0]] = a.GetT().GetDims()
				}
			}
		}
	}
	// Constants' dimensions are exact: they win over value infos.
	for _, sg := range graph.Graphs(g) {
		for _, t := range sg.GetInitializers() {
			out[t.GetName()] = t.GetDims()
		}
	}
	return out
}
