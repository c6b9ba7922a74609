package ops

import (
	"fmt"
	"sort"
	"strings"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Einsum", 12, func(n *Node) (Kernel, error) {
		eq := strings.ReplaceAll(n.String("equation", ""), " ", "")
		if eq == "" {
			return nil, fmt.Errorf("Einsum: attribute equation is missing")
		}
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			for i, t := range in {
				if t == nil {
					return fmt.Errorf("Einsum: input %d is missing", i)
				}
			}
			return einsum(eq, in, out[0])
		}), nil
	})
}

// einsumPlan is a parsed equation applied to concrete input shapes:
// labels are numbered, ellipsis dimensions get labels of their own.
type einsumPlan struct {
	sizes   []int   // per label
	inputs  [][]int // per input, the label of each dimension
	output  []int   // labels of the output dimensions
	summed  []int   // labels summed over
	strides [][]int // per input, per label: the element stride (0 if absent or broadcast)
}

// parseEinsum parses eq for inputs of the given shapes.
func parseEinsum(eq string, shapes [][]int) (*einsumPlan, error) {
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(shapes) {
		return nil, fmt.Errorf("equation %q has %d operands, got %d inputs", eq, len(terms), len(shapes))
	}
	ids := map[byte]int{}
	letterID := func(c byte) (int, error) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return 0, fmt.Errorf("equation %q: bad label %q", eq, c)
		}
		if id, ok := ids[c]; ok {
			return id, nil
		}
		ids[c] = len(ids)
		return ids[c], nil
	}
	// Ellipsis dimensions: the broadcast of every operand's, right-aligned.
	ellRank := 0
	type term struct {
		letters []int
		ellAt   int // index in letters where the ellipsis goes, -1 if none
	}
	parsed := make([]term, len(terms))
	for i, t := range terms {
		tm := term{ellAt: -1}
		for j := 0; j < len(t); j++ {
			if strings.HasPrefix(t[j:], "...") {
				if tm.ellAt >= 0 {
					return nil, fmt.Errorf("equation %q: two ellipses in one operand", eq)
				}
				tm.ellAt = len(tm.letters)
				j += 2
				continue
			}
			id, err := letterID(t[j])
			if err != nil {
				return nil, err
			}
			tm.letters = append(tm.letters, id)
		}
		k := len(shapes[i]) - len(tm.letters)
		if k < 0 || k > 0 && tm.ellAt < 0 {
			return nil, fmt.Errorf("equation %q: operand %d has rank %d", eq, i, len(shapes[i]))
		}
		ellRank = max(ellRank, k)
		parsed[i] = tm
	}
	nLetters := len(ids)
	p := &einsumPlan{sizes: make([]int, nLetters+ellRank)}
	for i := range p.sizes {
		p.sizes[i] = -1
	}
	ell := func(j int) int { return nLetters + j } // label of ellipsis dimension j
	for i, tm := range parsed {
		shape := shapes[i]
		k := len(shape) - len(tm.letters)
		var labels []int
		if tm.ellAt < 0 {
			labels = tm.letters
		} else {
			labels = append(labels, tm.letters[:tm.ellAt]...)
			for j := 0; j < k; j++ {
				labels = append(labels, ell(ellRank-k+j))
			}
			labels = append(labels, tm.letters[tm.ellAt:]...)
		}
		p.inputs = append(p.inputs, labels)
		for d, l := range labels {
			n := shape[d]
			switch {
			case p.sizes[l] == -1 || p.sizes[l] == 1 && l >= nLetters:
				p.sizes[l] = n
			case p.sizes[l] == n || n == 1 && l >= nLetters:
			default:
				return nil, fmt.Errorf("equation %q: dimension sizes %d and %d disagree", eq, p.sizes[l], n)
			}
		}
	}
	for l, n := range p.sizes {
		if n < 0 {
			p.sizes[l] = 1
		}
	}
	if explicit {
		seen := map[int]bool{}
		for j := 0; j < len(rhs); j++ {
			if strings.HasPrefix(rhs[j:], "...") {
				for e := 0; e < ellRank; e++ {
					p.output = append(p.output, ell(e))
				}
				j += 2
				continue
			}
			id, ok := ids[rhs[j]]
			if !ok {
				return nil, fmt.Errorf("equation %q: output label %q is in no operand", eq, rhs[j])
			}
			if seen[id] {
				return nil, fmt.Errorf("equation %q: output label %q repeated", eq, rhs[j])
			}
			seen[id] = true
			p.output = append(p.output, id)
		}
	} else {
		for e := 0; e < ellRank; e++ {
			p.output = append(p.output, ell(e))
		}
		count := map[byte]int{}
		for _, t := range terms {
			for j := 0; j < len(t); j++ {
				if t[j] != '.' {
					count[t[j]]++
				}
			}
		}
		var once []byte
		for c, n := range count {
			if n == 1 {
				once = append(once, c)
			}
		}
		sort.Slice(once, func(a, b int) bool { return once[a] < once[b] })
		for _, c := range once {
			p.output = append(p.output, ids[c])
		}
	}
	inOut := map[int]bool{}
	for _, l := range p.output {
		inOut[l] = true
	}
	for l := range p.sizes {
		if !inOut[l] {
			p.summed = append(p.summed, l)
		}
	}
	for i, labels := range p.inputs {
		st := make([]int, len(p.sizes))
		own := tensor.Strides(shapes[i])
		for d, l := range labels {
			if shapes[i][d] != 1 {
				st[l] += own[d]
			}
		}
		p.strides = append(p.strides, st)
	}
	return p, nil
}

// einsum evaluates the equation, accumulating in float64 (int64 for
// integer inputs), and converts the result to the inputs' type.
func einsum(eq string, in []*tensor.Tensor, out *tensor.Tensor) error {
	if len(in) == 0 {
		return fmt.Errorf("Einsum: no inputs")
	}
	shapes := make([][]int, len(in))
	for i, t := range in {
		if t.DType != in[0].DType {
			return fmt.Errorf("Einsum: input %d has type %v, input 0 %v", i, t.DType, in[0].DType)
		}
		shapes[i] = t.Shape
	}
	p, err := parseEinsum(eq, shapes)
	if err != nil {
		return fmt.Errorf("Einsum: %w", err)
	}
	var res *tensor.Tensor
	if isIntType(in[0].DType) {
		vals := make([][]int64, len(in))
		for i, t := range in {
			if vals[i], err = t.Int64s(); err != nil {
				return fmt.Errorf("Einsum: %w", err)
			}
		}
		res = einsumEval(p, vals)
	} else {
		vals := make([][]float64, len(in))
		for i, t := range in {
			if vals[i], err = t.Float64s(); err != nil {
				return fmt.Errorf("Einsum: %w", err)
			}
		}
		res = einsumEval(p, vals)
	}
	return Convert(res, in[0].DType, out)
}

// einsumEval sums the products of the operands over every combination of
// the labels: output labels outermost, summed labels innermost.
func einsumEval[A int64 | float64](p *einsumPlan, vals [][]A) *tensor.Tensor {
	shape := make([]int, len(p.output))
	for i, l := range p.output {
		shape[i] = p.sizes[l]
	}
	res := make([]A, tensor.NumElements(shape))
	order := append(append([]int(nil), p.output...), p.summed...)
	total := 1
	for _, l := range order {
		total *= p.sizes[l]
	}
	if total == 0 {
		return tensor.From(shape, res)
	}
	perSum := 1
	for _, l := range p.summed {
		perSum *= p.sizes[l]
	}
	idx := make([]int, len(order))
	off := make([]int, len(vals))
	for step := 0; step < total; step++ {
		prod := A(1)
		for k, v := range vals {
			prod *= v[off[k]]
		}
		res[step/perSum] += prod
		for d := len(order) - 1; d >= 0; d-- {
			l := order[d]
			idx[d]++
			for k := range off {
				off[k] += p.strides[k][l]
			}
			if idx[d] < p.sizes[l] {
				break
			}
			for k := range off {
				off[k] -= p.strides[k][l] * p.sizes[l]
			}
			idx[d] = 0
		}
	}
	return tensor.From(shape, res)
}
