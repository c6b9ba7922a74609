package gna

import (
	"fmt"
	"math"
	"sort"
)

// MaxSegments is the segment budget of a PWL activation: GNA's
// activation unit evaluates at most 128 segments.
const MaxSegments = 128

// Segment is one piece of a piecewise-linear activation in GNA's
// integer format: for an int32 input X from XBase up to the next
// segment's XBase,
//
//	y = YBase + ((X - XBase) * Slope) >> Shift
//
// (an arithmetic, flooring shift), saturated to the int16 output range.
// As in GNA's segment records, XBase is a multiple of 4 (its two low
// bits encode the shift), YBase and Slope are int16 and Shift is 8, 16,
// 24 or 32.
type Segment struct {
	XBase int32
	YBase int16
	Slope int16
	Shift uint8
}

// PWL is a piecewise-linear function from an integer input grid to an
// int16 output grid.
type PWL struct {
	Segments []Segment
	// OutLo and OutHi saturate the output.
	OutLo, OutHi int32
	// Epsilon is the design tolerance in output steps (the largest
	// deviation of a segment's line from the function on the grid,
	// before integer rounding).
	Epsilon float64
}

// Eval computes the PWL at integer input x. Inputs below the first
// segment give its YBase, as on GNA.
func (p *PWL) Eval(x int64) int32 {
	segs := p.Segments
	if x <= int64(segs[0].XBase) {
		return p.clamp(int64(segs[0].YBase))
	}
	// The last segment with XBase <= x.
	lo, hi := 0, len(segs)
	for hi-lo > 1 {
		m := (lo + hi) >> 1
		if int64(segs[m].XBase) <= x {
			lo = m
		} else {
			hi = m
		}
	}
	s := &segs[lo]
	return p.clamp(int64(s.YBase) + ((x-int64(s.XBase))*int64(s.Slope))>>s.Shift)
}

func (p *PWL) clamp(y int64) int32 { return int32(max(int64(p.OutLo), min(int64(p.OutHi), y))) }

// IntGrid is a symmetric integer grid: value = q * Scale, q in [Lo, Hi].
type IntGrid struct {
	Scale  float64
	Lo, Hi int64
}

// Func is a real activation function with the points where it is not
// smooth (kinks, jumps), in real input units.
type Func struct {
	Name  string
	F     func(float64) float64
	Kinks []float64
}

// MinTolerance is the design tolerance, in output steps, below which
// Design does not spend segments: GNA's flooring shift and int16 slope
// already cost about one step.
const MinTolerance = 1.0

// designSamples is the number of grid points a segment's fit is checked
// on (all points for shorter segments).
const designSamples = 32

// Design builds the PWL approximation of f from the input grid to the
// output grid with at most maxSegs segments: the smallest tolerance
// (down to MinTolerance) for which a greedy segmentation fits in the
// budget, found by bisection. Each segment is the minimax line of its
// grid points (the chord, shifted by the middle of its deviations).
func Design(f Func, in, out IntGrid, maxSegs int) (*PWL, error) {
	if !(in.Scale > 0) || !(out.Scale > 0) || in.Hi < in.Lo || out.Hi <= out.Lo {
		return nil, fmt.Errorf("pwl %s: bad grids %+v -> %+v", f.Name, in, out)
	}
	if maxSegs < 1 {
		return nil, fmt.Errorf("pwl %s: budget of %d segments", f.Name, maxSegs)
	}
	if f.Name == "Sign" {
		return signPWL(in, out), nil
	}
	d := &designer{f: f, in: in, out: out}
	d.breaks = d.breakpoints()
	if len(d.breaks)-1 > maxSegs {
		return nil, fmt.Errorf("pwl %s: %d pieces needed, budget %d", f.Name, len(d.breaks)-1, maxSegs)
	}
	lo, hi := MinTolerance, float64(out.Hi-out.Lo)
	best := d.greedy(lo, maxSegs)
	eps := lo
	if best == nil {
		best = d.greedy(hi, maxSegs)
		if best == nil {
			return nil, fmt.Errorf("pwl %s: no segmentation within %d segments", f.Name, maxSegs)
		}
		eps = hi
		for it := 0; it < 40 && hi-lo > 1e-3*lo; it++ {
			mid := math.Sqrt(lo * hi)
			if s := d.greedy(mid, maxSegs); s != nil {
				best, hi, eps = s, mid, mid
			} else {
				lo = mid
			}
		}
	}
	return &PWL{Segments: best, OutLo: int32(out.Lo), OutHi: int32(out.Hi), Epsilon: eps}, nil
}

// signPWL is Sign in three flat segments: -1 below zero, 0 from 0 and 1
// from 4, the first segment start above zero GNA allows.
func signPWL(in, out IntGrid) *PWL {
	one := int16(min(out.Hi, int64(math.RoundToEven(1/out.Scale))))
	minus := int16(max(out.Lo, -int64(math.RoundToEven(1/out.Scale))))
	return &PWL{Segments: []Segment{{XBase: int32(floor4(in.Lo)), YBase: minus, Shift: 8}, {XBase: 0, Shift: 8}, {XBase: 4, YBase: one, Shift: 8}},
		OutLo: int32(out.Lo), OutHi: int32(out.Hi)}
}

type designer struct {
	f       Func
	in, out IntGrid
	breaks  []int64 // forced segment starts, with in.Lo first and in.Hi+1 last
}

// g is the target in output steps: f clamped to the output range; NaN
// (outside f's domain) counts as 0.
func (d *designer) g(x int64) float64 {
	v := d.f.F(float64(x)*d.in.Scale) / d.out.Scale
	if v != v {
		v = 0
	}
	return max(float64(d.out.Lo), min(float64(d.out.Hi), v))
}

// breakpoints are the kinks and the points where f enters or leaves the
// output range, as grid points.
func (d *designer) breakpoints() []int64 {
	set := map[int64]bool{floor4(d.in.Lo): true, d.in.Hi + 1: true}
	add := func(x int64) {
		x = floor4(x)
		if x > d.in.Lo && x <= d.in.Hi {
			set[x] = true
		}
	}
	for _, k := range d.f.Kinks {
		add(int64(math.Ceil(k / d.in.Scale)))
	}
	// Clamping: scan for changes of the clamped state and refine.
	state := func(x int64) int {
		v := d.f.F(float64(x)*d.in.Scale) / d.out.Scale
		switch {
		case v != v:
			return 2
		case v < float64(d.out.Lo):
			return -1
		case v > float64(d.out.Hi):
			return 1
		}
		return 0
	}
	const scan = 4096
	span := d.in.Hi - d.in.Lo
	prev, ps := d.in.Lo, state(d.in.Lo)
	for i := 1; i <= scan; i++ {
		x := d.in.Lo + int64(float64(span)*float64(i)/scan)
		s := state(x)
		if s != ps {
			a, b := prev, x // state(a) = ps, state(b) != ps
			for b-a > 1 {
				m := a + (b-a)/2
				if state(m) == ps {
					a = m
				} else {
					b = m
				}
			}
			add(b)
		}
		prev, ps = x, s
	}
	out := make([]int64, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// fit returns the integer segment for the grid points [x0, x1) — the
// minimax line of the target there (the chord shifted by the middle of
// its deviations) in GNA's format — and its largest deviation from the
// target on the checked points, in output steps, integer rounding
// included.
func (d *designer) fit(x0, x1 int64) (Segment, float64) {
	last := x1 - 1
	g0, g1 := d.g(x0), d.g(last)
	slope := 0.0
	if last > x0 {
		slope = (g1 - g0) / float64(last-x0)
	}
	points := d.points(x0, last)
	lo, hi := 0.0, 0.0
	for _, x := range points {
		r := d.g(x) - (g0 + slope*float64(x-x0))
		lo, hi = min(lo, r), max(hi, r)
	}
	seg := makeSegment(x0, g0+(lo+hi)/2, slope)
	p := PWL{Segments: []Segment{seg}, OutLo: int32(d.out.Lo), OutHi: int32(d.out.Hi)}
	dev := 0.0
	for _, x := range points {
		dev = max(dev, math.Abs(float64(p.Eval(x))-d.g(x)))
	}
	return seg, dev
}

// points are the grid points a segment over [x0, last] is checked on:
// all of them when few, else evenly spread ones with both ends.
func (d *designer) points(x0, last int64) []int64 {
	n := last - x0
	if n <= designSamples {
		out := make([]int64, 0, n+1)
		for x := x0; x <= last; x++ {
			out = append(out, x)
		}
		return out
	}
	out := make([]int64, 0, designSamples+1)
	for i := 0; i <= designSamples; i++ {
		out = append(out, x0+int64(float64(n)*float64(i)/designSamples))
	}
	return out
}

// floor4 rounds down to a multiple of 4 (GNA's segment starts).
func floor4(x int64) int64 { return x &^ 3 }

// greedy segments the grid with tolerance eps, each segment as long as
// it can be (its end a multiple of 4); nil when more than maxSegs
// segments are needed.
func (d *designer) greedy(eps float64, maxSegs int) []Segment {
	var segs []Segment
	for b := 0; b+1 < len(d.breaks); b++ {
		x0, end := d.breaks[b], d.breaks[b+1]
		for x0 < end {
			x1 := end
			seg, dev := d.fit(x0, end)
			if dev > eps && end-x0 > 4 {
				// Largest x1 (a multiple of 4) in (x0, end) with a fit
				// within eps; at least 4 grid points.
				lo, hi := x0+4, end
				for hi-lo > 4 {
					m := floor4(lo + (hi-lo)/2)
					if m <= lo {
						break
					}
					if s, dev := d.fit(x0, m); dev <= eps {
						lo, seg = m, s
					} else {
						hi = m
					}
				}
				x1 = lo
				if x1 == x0+4 {
					seg, _ = d.fit(x0, x1)
				}
			}
			if len(segs) == maxSegs {
				return nil
			}
			segs = append(segs, seg)
			x0 = x1
		}
	}
	return segs
}

// makeSegment turns a real line (value c0 at x0, slope in output steps
// per input step) into GNA's format: the largest of the shifts 8, 16, 24,
// 32 that keeps the slope mantissa within int16; the base is raised by
// half a step to centre the flooring shift.
func makeSegment(x0 int64, c0, slope float64) Segment {
	s := Segment{XBase: int32(x0), Shift: 8}
	for _, sh := range []uint8{32, 24, 16, 8} {
		if math.Abs(slope)*math.Ldexp(1, int(sh)) <= Int16Hi {
			s.Shift = sh
			break
		}
	}
	m := math.RoundToEven(slope * math.Ldexp(1, int(s.Shift)))
	s.Slope = int16(max(Int16Lo, min(Int16Hi, m)))
	if s.Slope != 0 {
		c0 += 0.5
	}
	s.YBase = int16(max(Int16Lo, min(Int16Hi, math.RoundToEven(c0))))
	return s
}

// ErrorStats are the measured errors of a PWL against its function.
type ErrorStats struct {
	// MaxSteps is the largest |PWL - f| in output steps over the checked
	// inputs, with f clamped to the output range.
	MaxSteps float64
	// MaxAbs is MaxSteps in real output units.
	MaxAbs float64
	// Checked is the number of input grid points compared.
	Checked int
}

// Measure compares the PWL with f on every input grid point when there
// are at most 2^20 of them, else on 2^20 evenly spread points plus the
// points around every segment start.
func Measure(p *PWL, f Func, in, out IntGrid) ErrorStats {
	d := &designer{f: f, in: in, out: out}
	var st ErrorStats
	check := func(x int64) {
		if x < in.Lo || x > in.Hi {
			return
		}
		e := math.Abs(float64(p.Eval(x)) - d.g(x))
		st.MaxSteps = max(st.MaxSteps, e)
		st.Checked++
	}
	const dense = 1 << 20
	span := in.Hi - in.Lo
	if span <= dense {
		for x := in.Lo; x <= in.Hi; x++ {
			check(x)
		}
	} else {
		for i := int64(0); i <= dense; i++ {
			check(in.Lo + int64(float64(span)*float64(i)/dense))
		}
		for _, s := range p.Segments {
			for dx := int64(-2); dx <= 2; dx++ {
				check(int64(s.XBase) + dx)
			}
		}
	}
	st.MaxAbs = st.MaxSteps * out.Scale
	return st
}
