package gna

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// pwlCase is one activation on realistic GNA grids: an int32 input grid
// covering [-inRange, inRange] (the 32-bit output of an affine layer) and
// an int16 output grid covering [-outRange, outRange].
type pwlCase struct {
	op       string
	params   []float64
	inRange  float64
	outRange float64
	// maxSteps bounds the measured error in output steps.
	maxSteps float64
}

var pwlCases = []pwlCase{
	{op: "Sigmoid", inRange: 8, outRange: 1, maxSteps: 6},
	{op: "Sigmoid", inRange: 16, outRange: 1, maxSteps: 12},
	{op: "Tanh", inRange: 4, outRange: 1, maxSteps: 12},
	{op: "Tanh", inRange: 8, outRange: 1, maxSteps: 16},
	{op: "Exp", inRange: 4, outRange: math.Exp(4), maxSteps: 6},
	{op: "Log", inRange: 16, outRange: 8, maxSteps: 8},
	{op: "Pow", params: []float64{2}, inRange: 4, outRange: 16, maxSteps: 4},
	{op: "Pow", params: []float64{0.5}, inRange: 4, outRange: 2, maxSteps: 16},
	// Piecewise-linear functions are exact up to integer rounding.
	{op: "Relu", inRange: 8, outRange: 8, maxSteps: 2},
	{op: "PRelu", params: []float64{0.25}, inRange: 8, outRange: 8, maxSteps: 2},
	{op: "Clip", params: []float64{-1, 6}, inRange: 8, outRange: 8, maxSteps: 2},
	{op: "Abs", inRange: 8, outRange: 8, maxSteps: 2},
}

func (c pwlCase) grids() (in, out IntGrid) {
	in = IntGrid{Scale: c.inRange / (1 << 31), Lo: math.MinInt32, Hi: math.MaxInt32}
	out = IntGrid{Scale: c.outRange / 32767, Lo: -32768, Hi: 32767}
	return in, out
}

func (c pwlCase) name() string {
	if len(c.params) == 0 {
		return c.op
	}
	ps := make([]string, len(c.params))
	for i, p := range c.params {
		ps[i] = fmt.Sprint(p)
	}
	return c.op + "(" + strings.Join(ps, ",") + ")"
}

// design builds and measures a case's PWL.
func (c pwlCase) design(t *testing.T) (*PWL, ErrorStats) {
	t.Helper()
	in, out := c.grids()
	f, err := NewFunc(c.op, c.params)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Design(f, in, out, MaxSegments)
	if err != nil {
		t.Fatal(err)
	}
	return p, Measure(p, f, in, out)
}

// TestPWLErrorBounds checks the measured errors and logs the table of the
// package documentation: go test ./targets/gna -run TestPWLErrorBounds -v
func TestPWLErrorBounds(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %-6s %-8s %8s %10s %10s\n", "function", "input", "output", "segments", "max steps", "max abs")
	for _, c := range pwlCases {
		t.Run(c.name(), func(t *testing.T) {
			p, st := c.design(t)
			fmt.Fprintf(&b, "%-12s ±%-5g ±%-7.4g %8d %10.2f %10.3g\n", c.name(), c.inRange, c.outRange, len(p.Segments), st.MaxSteps, st.MaxAbs)
			if len(p.Segments) > MaxSegments {
				t.Fatalf("%d segments, budget %d", len(p.Segments), MaxSegments)
			}
			if st.MaxSteps > c.maxSteps {
				t.Errorf("max error %.2f output steps (%.3g), bound %.2f; %d segments, tolerance %.2f",
					st.MaxSteps, st.MaxAbs, c.maxSteps, len(p.Segments), p.Epsilon)
			}
			// The integer PWL stays within its design tolerance (measured on
			// sampled points) plus the flooring and slope rounding between
			// them.
			if st.MaxSteps > p.Epsilon+2 {
				t.Errorf("max error %.2f steps beyond tolerance %.2f + 2", st.MaxSteps, p.Epsilon)
			}
		})
	}
	t.Log("\n" + b.String())
}

func TestPWLEvalFormat(t *testing.T) {
	// Two segments by hand: y = 10 + (x*3)>>8 from 0, y = -7 + ((x-1000)*-5)>>16 from 1000.
	p := &PWL{Segments: []Segment{{XBase: 0, YBase: 10, Slope: 3, Shift: 8}, {XBase: 1000, YBase: -7, Slope: -5, Shift: 16}}, OutLo: -32768, OutHi: 32767}
	tests := []struct {
		x    int64
		want int32
	}{
		{-5, 10},            // below the first segment: its base
		{0, 10},             // 10 + 0
		{100, 11},           // 10 + 300>>8 = 10 + 1
		{256, 13},           // 10 + 768>>8
		{999, 21},           // 10 + 2997>>8 = 10 + 11
		{1000, -7},          // second segment base
		{1000 + 65536, -12}, // -7 + (-327680>>16) = -7 - 5
		{1000 + 1, -8},      // -5>>16 floors to -1
		{1 << 40, -32768},   // saturates
	}
	for _, tc := range tests {
		if got := p.Eval(tc.x); got != tc.want {
			t.Errorf("Eval(%d) = %d, want %d", tc.x, got, tc.want)
		}
	}
}

func TestPWLSign(t *testing.T) {
	in := IntGrid{Scale: 8.0 / (1 << 31), Lo: math.MinInt32, Hi: math.MaxInt32}
	out := IntGrid{Scale: 1.0 / 32767, Lo: -32768, Hi: 32767}
	f, err := NewFunc("Sign", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Design(f, in, out, MaxSegments)
	if err != nil {
		t.Fatal(err)
	}
	// Segment starts are multiples of 4 on GNA: the jump from 0 to 1 can
	// only sit at 4, so inputs 1..3 (below 4e-9 here) are off; every
	// other input is exact.
	for _, x := range []int64{math.MinInt32, -1 << 20, -4, -1, 0, 4, 5, 1 << 20, math.MaxInt32} {
		want := int32(math.Round(f.F(float64(x)*in.Scale) * 32767))
		if got := p.Eval(x); got != want {
			t.Errorf("Sign at %d: %d, want %d", x, got, want)
		}
	}
	if len(p.Segments) != 3 {
		t.Errorf("%d segments, want 3", len(p.Segments))
	}
}
