package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Pow", 1, func(n *Node) (Kernel, error) {
		k := &powKernel{legacyAxis: -1}
		if n.Int("broadcast", 0) != 0 && n.Has("axis") {
			k.legacyAxis = int(n.Int("axis", 0))
		}
		return k, nil
	})
	register(DomainONNX, "Pow", 7, func(n *Node) (Kernel, error) { return &powKernel{legacyAxis: -1}, nil })
}

var (
	powF32 = func() *binTable {
		t := &binTable{}
		l := scalarLoops(func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) })
		vs := l.vs
		l.vs = func(dst, a []float32, b float32) {
			if b == 2 {
				mulVV(dst, a, a)
				return
			}
			vs(dst, a, b)
		}
		t[tensor.Float] = implOf(l)
		return t
	}()
	powF64 = func() *binTable {
		t := &binTable{}
		t[tensor.Double] = implOf(scalarLoops(math.Pow))
		return t
	}()
	powI64 = func() *binTable {
		t := &binTable{}
		t[tensor.Int64] = implOf(scalarLoops(powInt))
		return t
	}()
)

// powKernel implements Pow: the result has the base's type; the exponent
// may have another numeric type (opset 12).
type powKernel struct {
	legacyAxis int
	cache      planCache
}

// Run implements Kernel.
func (k *powKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	a, b := in[0], in[1]
	if k.legacyAxis >= 0 {
		var err error
		if b, err = legacyBroadcast(a, b, k.legacyAxis); err != nil {
			return fmt.Errorf("Pow: %w", err)
		}
	}
	switch {
	case a.DType == tensor.Float && b.DType == tensor.Float:
		return powF32.run(ctx, &k.cache, "Pow", a, b, out[0])
	case a.DType == tensor.Double && b.DType == tensor.Double:
		return powF64.run(ctx, &k.cache, "Pow", a, b, out[0])
	}
	var table *binTable
	var av, bv *tensor.Tensor
	if isIntType(a.DType) && isIntType(b.DType) {
		x, err := a.Int64s()
		if err != nil {
			return fmt.Errorf("Pow: %w", err)
		}
		y, err := b.Int64s()
		if err != nil {
			return fmt.Errorf("Pow: %w", err)
		}
		table, av, bv = powI64, tensor.From(a.Shape, x), tensor.From(b.Shape, y)
	} else {
		x, err := a.Float64s()
		if err != nil {
			return fmt.Errorf("Pow: %w", err)
		}
		y, err := b.Float64s()
		if err != nil {
			return fmt.Errorf("Pow: %w", err)
		}
		table, av, bv = powF64, tensor.From(a.Shape, x), tensor.From(b.Shape, y)
	}
	tmp := &tensor.Tensor{}
	if err := table.run(ctx, &k.cache, "Pow", av, bv, tmp); err != nil {
		return err
	}
	return Convert(tmp, a.DType, out[0])
}

// isIntType reports whether dt is an integer type.
func isIntType(dt tensor.DType) bool {
	switch dt {
	case tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64,
		tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return true
	}
	return false
}

// powInt is a**b for integers (wrapping on overflow); a negative b gives
// 0 except for bases 1 and -1.
func powInt(a, b int64) int64 {
	if b < 0 {
		switch a {
		case 1:
			return 1
		case -1:
			if b%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for b > 0 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}
