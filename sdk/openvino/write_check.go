package openvino

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Check validates an IR against the structure OpenVINO's IR
// documentation describes, without an OpenVINO runtime: every layer has
// an id, name, type and version, ids are unique, ports of a layer have
// unique ids; every edge joins an existing output port to an existing
// input port of the same dims and precision, and every input port of a
// layer other than Parameter and Const is connected exactly once; Const
// layers have a known element_type, a shape that matches their port, and
// offset+size within bin with size = elements × element size; Parameter
// layers have a known element_type and a shape matching their port;
// Result layers have one input and no output; the layers form no cycle.
// It returns every problem found, joined.
func Check(n *Net, bin []byte) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if n.Version != 10 && n.Version != 11 {
		bad("net version %d (want 10 or 11)", n.Version)
	}
	type portRef struct {
		layer, port int
	}
	layers := map[int]*Layer{}
	outs := map[portRef]*Port{}
	ins := map[portRef]*Port{}
	for _, l := range n.Layers {
		if l.Name == "" || l.Type == "" || l.Version == "" {
			bad("layer %d: name %q, type %q, version %q: all are required", l.ID, l.Name, l.Type, l.Version)
		}
		if layers[l.ID] != nil {
			bad("layer id %d used twice (%q and %q)", l.ID, layers[l.ID].Name, l.Name)
		}
		layers[l.ID] = l
		ids := map[int]bool{}
		for i := range l.Input {
			p := &l.Input[i]
			if ids[p.ID] {
				bad("layer %q: port id %d used twice", l.Name, p.ID)
			}
			ids[p.ID] = true
			ins[portRef{l.ID, p.ID}] = p
		}
		for i := range l.Output {
			p := &l.Output[i]
			if ids[p.ID] {
				bad("layer %q: port id %d used twice", l.Name, p.ID)
			}
			ids[p.ID] = true
			outs[portRef{l.ID, p.ID}] = p
			if _, err := DataType(p.Precision); err != nil {
				bad("layer %q output port %d: %v", l.Name, p.ID, err)
			}
			for _, d := range p.Dims {
				if _, err := ParseDim(d); err != nil {
					bad("layer %q output port %d: %v", l.Name, p.ID, err)
				}
			}
		}
		switch l.Type {
		case "Const":
			errs = append(errs, checkConst(l, bin)...)
		case "Parameter":
			if len(l.Input) != 0 || len(l.Output) != 1 {
				bad("Parameter %q has %d inputs and %d outputs (want 0 and 1)", l.Name, len(l.Input), len(l.Output))
				continue
			}
			et, _ := l.Attr("element_type")
			if dt, err := DataType(et); err != nil {
				bad("Parameter %q: %v", l.Name, err)
			} else if p, _ := Precision(dt); p != l.Output[0].Precision {
				bad("Parameter %q: element_type %s, port precision %s", l.Name, et, l.Output[0].Precision)
			}
			s, _ := l.Attr("shape")
			shape, err := ParseShape(s)
			if err != nil {
				bad("Parameter %q: %v", l.Name, err)
			} else if !samePortDims(shape, l.Output[0].Dims) {
				bad("Parameter %q: shape %q, port dims %v", l.Name, s, l.Output[0].Dims)
			}
		case "Result":
			if len(l.Input) != 1 || len(l.Output) != 0 {
				bad("Result %q has %d inputs and %d outputs (want 1 and 0)", l.Name, len(l.Input), len(l.Output))
			}
		}
	}
	connected := map[portRef]int{}
	next := map[int][]int{}
	for _, e := range n.Edges {
		from, ok := outs[portRef{e.FromLayer, e.FromPort}]
		if !ok {
			bad("edge %d:%d -> %d:%d: no output port %d on layer %d", e.FromLayer, e.FromPort, e.ToLayer, e.ToPort, e.FromPort, e.FromLayer)
			continue
		}
		to, ok := ins[portRef{e.ToLayer, e.ToPort}]
		if !ok {
			bad("edge %d:%d -> %d:%d: no input port %d on layer %d", e.FromLayer, e.FromPort, e.ToLayer, e.ToPort, e.ToPort, e.ToLayer)
			continue
		}
		connected[portRef{e.ToLayer, e.ToPort}]++
		next[e.FromLayer] = append(next[e.FromLayer], e.ToLayer)
		if !slices.Equal(from.Dims, to.Dims) {
			bad("edge %q:%d -> %q:%d: dims %v and %v", layers[e.FromLayer].Name, e.FromPort, layers[e.ToLayer].Name, e.ToPort, from.Dims, to.Dims)
		}
		if to.Precision != "" && from.Precision != to.Precision {
			bad("edge %q:%d -> %q:%d: precisions %s and %s", layers[e.FromLayer].Name, e.FromPort, layers[e.ToLayer].Name, e.ToPort, from.Precision, to.Precision)
		}
	}
	for _, l := range n.Layers {
		for _, p := range l.Input {
			if c := connected[portRef{l.ID, p.ID}]; c != 1 {
				bad("layer %q (%s) input port %d is connected %d times (want once)", l.Name, l.Type, p.ID, c)
			}
		}
	}
	if cyclic(n.Layers, next) {
		bad("the layers form a cycle")
	}
	return errors.Join(errs...)
}

func checkConst(l *Layer, bin []byte) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("Const %q: "+format, append([]any{l.Name}, a...)...))
	}
	if len(l.Input) != 0 || len(l.Output) != 1 {
		bad("%d inputs and %d outputs (want 0 and 1)", len(l.Input), len(l.Output))
		return errs
	}
	et, _ := l.Attr("element_type")
	dt, err := DataType(et)
	if err != nil || elementSize(et) == 0 {
		bad("element_type %q is not known", et)
		return errs
	}
	if p, _ := Precision(dt); p != l.Output[0].Precision {
		bad("element_type %s, port precision %s", et, l.Output[0].Precision)
	}
	s, _ := l.Attr("shape")
	shape, err := ParseShape(s)
	if err != nil {
		bad("%v", err)
		return errs
	}
	if !samePortDims(shape, l.Output[0].Dims) {
		bad("shape %q, port dims %v", s, l.Output[0].Dims)
	}
	elems := int64(1)
	for _, d := range shape {
		if d < 0 {
			bad("dynamic shape %q", s)
			return errs
		}
		elems *= d
	}
	offs, _ := l.Attr("offset")
	sizes, _ := l.Attr("size")
	off, err1 := strconv.ParseInt(offs, 10, 64)
	size, err2 := strconv.ParseInt(sizes, 10, 64)
	if err1 != nil || err2 != nil || off < 0 || size < 0 {
		bad("offset %q, size %q", offs, sizes)
		return errs
	}
	if want := (elems*int64(elementSize(et)) + 7) / 8; size != want {
		bad("size %d, %s%v needs %d bytes", size, et, shape, want)
	}
	if off+size > int64(len(bin)) {
		bad("bytes [%d, %d) beyond the %d bytes of the weights", off, off+size, len(bin))
	}
	return errs
}

func samePortDims(shape []int64, dims []string) bool {
	if len(shape) != len(dims) {
		return false
	}
	for i, d := range dims {
		v, err := ParseDim(d)
		if err != nil || v != shape[i] {
			return false
		}
	}
	return true
}

// cyclic reports whether the edges between layers form a cycle.
func cyclic(layers []*Layer, next map[int][]int) bool {
	indeg := map[int]int{}
	for _, to := range next {
		for _, t := range to {
			indeg[t]++
		}
	}
	var queue []int
	for _, l := range layers {
		if indeg[l.ID] == 0 {
			queue = append(queue, l.ID)
		}
	}
	seen := 0
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		seen++
		for _, t := range next[id] {
			if indeg[t]--; indeg[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	return seen < len(layers)
}
