package ops

import (
	"encoding/binary"
	"fmt"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// pot's integer-execution operators (domain ai.pot) carry quantized
// activations as uint8 level indices q in [0, levels-1] with an integer
// zero point: the value is (q - zero_point)·scale. A signed int8 tensor
// with zero point z is the same levels shifted by 128 (q = v + 128, zero
// point z + 128), which is how int8 CPU kernels feed signed activations
// to unsigned×signed dot products.
//
// A level tensor may be stored channels-last (attribute channels_last =
// 1): axis 1 moved to the end, the shape then being [N, spatial..., C].
// Only these operators read or write that layout.
//
//   - QLevels(X float32, scale, zero_point int32) -> Y uint8: Y =
//     clamp(RoundHalfEven(X/scale) + zero_point, 0, levels-1), with the
//     rounding of FakeQuantize, so that QDequantize(QLevels(X)) equals
//     FakeQuantize(X) bit for bit. Attributes levels (<= 256), axis (of
//     per-channel parameters, default 1), channels_last (of Y).
//   - QDequantize(X uint8, zero_point int32, scale) -> Y float32 =
//     (X - zero_point)·scale. Attributes axis, channels_last (of X); Y is
//     in the standard layout.

func init() {
	register(DomainPot, "QLevels", 1, newQLevels)
	register(DomainPot, "QDequantize", 1, newQDequantize)
}

// channelsLastShape moves axis 1 of shape to the end.
func channelsLastShape(shape []int) []int {
	if len(shape) < 3 {
		return append([]int(nil), shape...)
	}
	out := append([]int{shape[0]}, shape[2:]...)
	return append(out, shape[1])
}

// channelsFirstShape is the inverse of channelsLastShape.
func channelsFirstShape(shape []int) []int {
	if len(shape) < 3 {
		return append([]int(nil), shape...)
	}
	out := []int{shape[0], shape[len(shape)-1]}
	return append(out, shape[1:len(shape)-1]...)
}

// levelParams are per-channel (or one) quantization parameters of a
// level tensor.
type levelParams struct {
	scale []float32
	zp    []int32
}

func readLevelParams(scale, zp *tensor.Tensor) (*levelParams, error) {
	if scale == nil || zp == nil {
		return nil, fmt.Errorf("scale and zero point are required")
	}
	s, ok := scale.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("scale must be float32, have %v", scale.DType)
	}
	z, ok := zp.Data.([]int32)
	if !ok {
		return nil, fmt.Errorf("zero point must be int32, have %v", zp.DType)
	}
	if len(s) == 0 || len(z) == 0 || len(s) != len(z) && len(s) != 1 && len(z) != 1 {
		return nil, fmt.Errorf("%d scales and %d zero points", len(s), len(z))
	}
	n := max(len(s), len(z))
	p := &levelParams{scale: make([]float32, n), zp: make([]int32, n)}
	for i := 0; i < n; i++ {
		p.scale[i] = s[min(i, len(s)-1)]
		p.zp[i] = z[min(i, len(z)-1)]
	}
	return p, nil
}

// levelLayout views a tensor of standard shape as (outer, C, inner) along
// its channel axis, for per-channel parameters.
type levelLayout struct {
	outer, c, inner int
}

func newLevelLayout(shape []int, axis int64, channels int) (levelLayout, error) {
	if channels == 1 {
		return levelLayout{outer: 1, c: 1, inner: tensor.NumElements(shape)}, nil
	}
	a, err := NormalizeAxis(axis, len(shape))
	if err != nil {
		return levelLayout{}, err
	}
	if shape[a] != channels {
		return levelLayout{}, fmt.Errorf("%d per-channel parameters for axis %d of %v", channels, a, shape)
	}
	return levelLayout{outer: tensor.NumElements(shape[:a]), c: channels, inner: tensor.NumElements(shape[a+1:])}, nil
}

func levelsAttrs(n *Node) (axis int64, channelsLast bool) {
	return n.Int("axis", 1), n.Int("channels_last", 0) != 0
}

func newQLevels(n *Node) (Kernel, error) {
	levels := n.Int("levels", 256)
	if levels < 2 || levels > 256 {
		return nil, Unsupported(n, "levels %d (outside 2..256) is", levels)
	}
	axis, cl := levelsAttrs(n)
	prepare := func(scale, zp *tensor.Tensor) (*levelParams, []quantizeBand, error) {
		p, err := readLevelParams(scale, zp)
		if err != nil {
			return nil, nil, err
		}
		bands := make([]quantizeBand, len(p.zp))
		for i, z := range p.zp {
			bands[i] = newQuantizeBand(float32(z), 0, float32(levels-1))
		}
		return p, bands, nil
	}
	var fixed *levelParams
	var fixedBands []quantizeBand
	if n.Const(1) != nil && n.Const(2) != nil {
		var err error
		if fixed, fixedBands, err = prepare(n.Const(1), n.Const(2)); err != nil {
			return nil, err
		}
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 3); err != nil {
			return err
		}
		x, ok := in[0].Data.([]float32)
		if !ok {
			return fmt.Errorf("X must be float32, have %v", in[0].DType)
		}
		p, bands := fixed, fixedBands
		if p == nil {
			var err error
			if p, bands, err = prepare(in[1], in[2]); err != nil {
				return err
			}
		}
		shape := in[0].Shape
		l, err := newLevelLayout(shape, axis, len(p.scale))
		if err != nil {
			return err
		}
		cl := cl && len(shape) >= 3
		if cl && len(p.scale) > 1 && l.outer != shape[0] {
			return fmt.Errorf("channels-last levels with per-channel parameters need axis 1, have %d of %v", axis, shape)
		}
		y := out[0]
		if cl {
			y.Reset(tensor.Uint8, channelsLastShape(shape))
		} else {
			y.Reset(tensor.Uint8, shape)
		}
		yd := y.Data.([]uint8)
		if !cl {
			rows := l.outer * l.c
			ctx.Parallel(rows, max(1, (1<<14)/max(l.inner, 1)), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					c := r % l.c
					levelRow(yd[r*l.inner:(r+1)*l.inner], 1, x[r*l.inner:(r+1)*l.inner], p.scale[c], &bands[c])
				}
			})
			return nil
		}
		// Channels-last: element (n, c, i) of x goes to (n, i, c), in
		// groups of 8 channels (levels8T) and, past the last whole group,
		// channel by channel.
		N, C := shape[0], shape[1]
		inner := tensor.NumElements(shape[2:])
		groups := C / 8
		per := groups + C%8 // tasks per image: groups, then single channels
		ctx.Parallel(N*per, max(1, (1<<14)/max(8*inner, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				b, t := r/per, r%per
				if t < groups {
					levels8T(yd[b*C*inner:], C, x[(b*C+8*t)*inner:], inner, 8*t, p.scale, bands)
					continue
				}
				c := 8*groups + t - groups
				pc := min(c, len(p.scale)-1)
				levelRow(yd[b*C*inner+c:], C, x[(b*C+c)*inner:(b*C+c+1)*inner], p.scale[pc], &bands[pc])
			}
		})
		return nil
	}), nil
}

// levelRow writes the levels of x to y[0], y[stride], ...: contiguous
// levels in assembly (kernels.Quantize8NaN) where the band rounds in
// float32, the rest in Go. A NaN gives level 0, the conversion to uint8
// of the NaN apply returns on amd64, where the assembly runs.
func levelRow(y []uint8, stride int, x []float32, s float32, b *quantizeBand) {
	i := 0
	switch {
	case stride == 1 && b.fast:
		i = kernels.Quantize8NaN(y[:len(x)], x, false, s, b.vlo, b.vhi, b.zp, b.lo, b.hi, 0)
	case b.fast:
		// A channels-last store: the levels of a run in assembly, then
		// spread by the stride.
		var run [256]uint8
		for i < len(x) {
			n := min(len(x)-i, len(run))
			j := kernels.Quantize8NaN(run[:n], x[i:i+n], false, s, b.vlo, b.vhi, b.zp, b.lo, b.hi, 0)
			for ; j < n; j++ {
				run[j] = uint8(b.apply(x[i+j] / s))
			}
			for j, l := range run[:n] {
				y[(i+j)*stride] = l
			}
			i += n
		}
	}
	for ; i < len(x); i++ {
		y[i*stride] = uint8(b.apply(x[i] / s))
	}
}

// levels8T writes the levels of channels c0..c0+7 of one image, x
// holding their inner values each (channels-first), to y channels-last
// with C channels: channel c0+k of pixel i at y[i*C+c0+k]. Each channel
// is quantized a run of pixels at a time into a scratch row (levelRow),
// and the 8 rows are transposed 8 pixels at a time as 8×8 bytes in
// 64-bit words: one 8-byte store per pixel instead of 8 strided ones.
func levels8T(y []uint8, C int, x []float32, inner, c0 int, scale []float32, bands []quantizeBand) {
	const run = 256
	var rows [8][run]uint8
	for i0 := 0; i0 < inner; i0 += run {
		n := min(run, inner-i0)
		for k := range 8 {
			pc := min(c0+k, len(scale)-1)
			levelRow(rows[k][:n], 1, x[k*inner+i0:k*inner+i0+n], scale[pc], &bands[pc])
		}
		j := 0
		for ; j+8 <= n; j += 8 {
			var w [8]uint64
			for k := range w {
				w[k] = binary.LittleEndian.Uint64(rows[k][j : j+8])
			}
			kernels.Transpose8x8(&w)
			for p, v := range w {
				o := (i0+j+p)*C + c0
				binary.LittleEndian.PutUint64(y[o:o+8], v)
			}
		}
		for ; j < n; j++ {
			o := (i0+j)*C + c0
			for k := range 8 {
				y[o+k] = rows[k][j]
			}
		}
	}
}

func newQDequantize(n *Node) (Kernel, error) {
	axis, cl := levelsAttrs(n)
	var fixed *levelParams
	var fixedTables [][256]float32
	if n.Const(1) != nil && n.Const(2) != nil {
		var err error
		if fixed, err = readLevelParams(n.Const(2), n.Const(1)); err != nil {
			return nil, err
		}
		fixedTables = fixed.dequantTables()
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 3); err != nil {
			return err
		}
		x, ok := in[0].Data.([]uint8)
		if !ok {
			return fmt.Errorf("X must be uint8 levels, have %v", in[0].DType)
		}
		p, tables := fixed, fixedTables
		if p == nil {
			var err error
			if p, err = readLevelParams(in[2], in[1]); err != nil {
				return err
			}
			tables = p.dequantTables()
		}
		shape := in[0].Shape
		cl := cl && len(shape) >= 3
		if cl {
			var local [8]int
			if len(shape) <= len(local) {
				shape = append(append(local[:0], shape[0], shape[len(shape)-1]), shape[1:len(shape)-1]...)
			} else {
				shape = channelsFirstShape(shape)
			}
		}
		l, err := newLevelLayout(shape, axis, len(p.scale))
		if err != nil {
			return err
		}
		y := out[0]
		y.Reset(tensor.Float, shape)
		yd := y.F32()
		if !cl {
			rows := l.outer * l.c
			ctx.Parallel(rows, max(1, (1<<14)/max(l.inner, 1)), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					c := r % l.c
					// Contiguous levels: 8 at a time in assembly, the
					// same (q - zp)·s as the table holds.
					y, xr := yd[r*l.inner:(r+1)*l.inner], x[r*l.inner:(r+1)*l.inner]
					i := kernels.Dequantize8(y, xr, false, float32(p.zp[c]), p.scale[c])
					dequantRow(y[i:], xr[i:], 1, &tables[c])
				}
			})
			return nil
		}
		if len(p.scale) > 1 && l.outer != shape[0] {
			return fmt.Errorf("channels-last levels with per-channel parameters need axis 1, have %d of %v", axis, shape)
		}
		N, C := shape[0], shape[1]
		inner := tensor.NumElements(shape[2:])
		if len(p.scale) == 1 && kernels.CanDequantizeT8(inner, C) {
			// Blocks of 16 channels by 16 pixels transposed in registers.
			size := C * inner
			ctx.Parallel(N, max(1, (1<<14)/max(size, 1)), func(lo, hi int) {
				for b := lo; b < hi; b++ {
					kernels.DequantizeT8(yd[b*size:(b+1)*size], x[b*size:(b+1)*size], inner, C, float32(p.zp[0]), p.scale[0])
				}
			})
			return nil
		}
		ctx.Parallel(N*C, max(1, (1<<14)/max(inner, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				b, c := r/C, r%C
				pc := min(c, len(p.scale)-1)
				dequantRow(yd[r*inner:(r+1)*inner], x[b*C*inner+c:], C, &tables[pc])
			}
		})
		return nil
	}), nil
}

// dequantTables returns, per channel, the value (q - zp)·s of every level
// q.
func (p *levelParams) dequantTables() [][256]float32 {
	t := make([][256]float32, len(p.scale))
	for c := range t {
		z, s := float32(p.zp[c]), p.scale[c]
		for q := range t[c] {
			t[c][q] = (float32(q) - z) * s
		}
	}
	return t
}

// dequantRow writes the value of level x[i*stride] to y[i].
func dequantRow(y []float32, x []uint8, stride int, values *[256]float32) {
	for i := range y {
		y[i] = values[x[i*stride]]
	}
}
