//go:build amd64 && !noasm

package kernels

//go:noescape
func fakeQuantAVX(p *[8]float32, y, x *float32, n int)

// fakeQuantVec does the first len(x)&^7 elements of FakeQuantF32 in
// AVX and returns how many it did.
func fakeQuantVec(p *[8]float32, y, x []float32) int {
	n := len(x) &^ 7
	if !useAsm || n == 0 {
		return 0
	}
	_ = y[n-1]
	fakeQuantAVX(p, &y[0], &x[0], n)
	return n
}
