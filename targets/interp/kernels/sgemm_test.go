package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// refGemm is the textbook triple loop in float64.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			for p := 0; p < k; p++ {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				bv := b[p*ldb+j]
				if transB {
					bv = b[j*ldb+p]
				}
				sum += float64(av) * float64(bv)
			}
			v := float64(alpha) * sum
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			if bias != nil {
				v += float64(bias[i])
			}
			if relu {
				v = math.Max(v, 0)
			}
			c[i*ldc+j] = float32(v)
		}
	}
}

// closeTo compares with a tolerance scaled by the dot-product length.
func closeTo(t *testing.T, what string, got, want []float32, k int) {
	t.Helper()
	tol := 1e-5 * float64(k+4)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol || math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) {
			t.Fatalf("%s: element %d = %v, want %v (diff %g > %g)", what, i, got[i], want[i], d, tol)
		}
	}
}

func TestSgemm(t *testing.T) {
	sizes := []int{1, 5, 17, 64, 100}
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					lda, ldb, ldc := k+1, n+2, n+3
					if tr[0] {
						lda = m + 1
					}
					if tr[1] {
						ldb = k + 2
					}
					a := randSlice(r, (m+k)*lda)
					b := randSlice(r, (k+n)*ldb+k+n)
					c := randSlice(r, m*ldc)
					alpha, beta := float32(1.5), float32(0.5)
					var bias []float32
					relu := (m+n+k)%2 == 0
					if k%2 == 1 {
						bias = randSlice(r, m)
					}
					want := append([]float32(nil), c...)
					refGemm(tr[0], tr[1], m, n, k, alpha, a, lda, b, ldb, beta, want, ldc, bias, relu)
					got := append([]float32(nil), c...)
					if err := SgemmEpilogue(tr[0], tr[1], m, n, k, alpha, a, lda, b, ldb, beta, got, ldc, bias, relu); err != nil {
						t.Fatal(err)
					}
					closeTo(t, fmt.Sprintf("m=%d n=%d k=%d trans=%v", m, n, k, tr), got, want, k)
				}
			}
		}
	}
}

func TestSgemmBeta(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name       string
		k          int
		alpha, bet float32
	}{
		{"beta0 ignores NaN", 33, 1, 0},
		{"beta1", 300, 2, 1},
		{"k0 beta0", 0, 1, 0},
		{"k0 beta2", 0, 1, 2},
		{"large k", 700, 0.5, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, n := 130, 530
			a := randSlice(r, m*max(tc.k, 1))
			b := randSlice(r, max(tc.k, 1)*n)
			c := randSlice(r, m*n)
			if tc.bet == 0 {
				for i := range c {
					c[i] = float32(math.NaN())
				}
			}
			want := append([]float32(nil), c...)
			if tc.bet == 0 {
				clear(want)
			}
			refGemm(false, false, m, n, tc.k, tc.alpha, a, tc.k, b, n, tc.bet, want, n, nil, false)
			got := append([]float32(nil), c...)
			if err := Sgemm(false, false, m, n, tc.k, tc.alpha, a, tc.k, b, n, tc.bet, got, n); err != nil {
				t.Fatal(err)
			}
			closeTo(t, tc.name, got, want, tc.k)
		})
	}
}

func TestSgemmErrors(t *testing.T) {
	buf := make([]float32, 10)
	for _, tc := range []struct {
		name    string
		m, n, k int
		lda     int
	}{
		{"negative", -1, 2, 2, 2},
		{"short A", 4, 2, 4, 4},
		{"small lda", 2, 2, 3, 2},
	} {
		if err := Sgemm(false, false, tc.m, tc.n, tc.k, 1, buf, tc.lda, buf, tc.n, 0, buf, tc.n); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestMicroKernelsMatchGo checks the assembly kernels the CPU can run
// against the pure-Go twins on every row count and flag combination.
func TestMicroKernelsMatchGo(t *testing.T) {
	if !Accelerated() {
		t.Skip("pure-Go kernels in use: nothing to compare")
	}
	r := rand.New(rand.NewPCG(5, 6))
	kernels := []struct {
		name string
		h    int
		kern microKernel
		ok   bool
	}{{"avx2-6", 6, kernel6Asm, hasAVX2FMA}, {"avx2-4", 4, kernel4Asm, hasAVX2FMA}, {"avx512-6", 6, kernel6AsmZ, hasAVX512}, {"avx512-4", 4, kernel4AsmZ, hasAVX512}}
	for _, kc := range kernels {
		if !kc.ok {
			t.Logf("%s: not on this CPU", kc.name)
			continue
		}
		h, kern := kc.h, kc.kern
		for _, k := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64} {
			for mr := 1; mr <= h; mr++ {
				for flags := 0; flags < 8; flags++ {
					a := randSlice(r, max(h*k, 1))
					b := randSlice(r, 40*k+nr+3)
					offs := make([]int, max(k, 1))
					for p := range offs[:k] {
						offs[p] = r.IntN(40*k + 3)
					}
					bias := randSlice(r, mr)
					ldc := 21
					c := randSlice(r, h*ldc)
					want := append([]float32(nil), c...)
					got := append([]float32(nil), c...)
					kernelGo(h, k, a, b, offs, want, ldc, mr, bias, flags)
					kern(k, a, b, offs, got, ldc, mr, bias, flags)
					closeTo(t, fmt.Sprintf("%s k=%d mr=%d flags=%d", kc.name, k, mr, flags), got, want, k)
				}
			}
		}
	}
}

func TestMulOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ m, k, n int }{{1, 1, 1}, {16, 9, 100}, {7, 20, 33}, {13, 5, 16}, {64, 144, 61}} {
		a := randSlice(r, tc.m*tc.k)
		pa, err := PackA(tc.m, tc.k, a, tc.k, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		// B rows overlap, as in an implicit im2col: row p starts at 3p.
		offs := make([]int, tc.k)
		for p := range offs {
			offs[p] = 3 * p
		}
		b := randSlice(r, 3*(tc.k-1)+tc.n)
		dense := make([]float32, tc.k*tc.n)
		for p := 0; p < tc.k; p++ {
			copy(dense[p*tc.n:], b[offs[p]:offs[p]+tc.n])
		}
		bias := randSlice(r, tc.m)
		c := randSlice(r, tc.m*tc.n)
		want := append([]float32(nil), c...)
		refGemm(false, false, tc.m, tc.n, tc.k, 1, a, tc.k, dense, tc.n, 1, want, tc.n, bias, true)
		if err := pa.MulOffsets(b, offs, tc.n, c, tc.n, Epilogue{Accumulate: true, Bias: bias, ReLU: true}); err != nil {
			t.Fatal(err)
		}
		closeTo(t, fmt.Sprint(tc), c, want, tc.k)
	}
}

func TestPackedB(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, m := range []int{1, 5, 17, 64, 130} {
		for _, n := range []int{1, 5, 17, 64, 100} {
			for _, k := range []int{1, 5, 17, 300} {
				for _, tr := range [][2]bool{{false, false}, {true, true}} {
					lda, ldb := k+1, n+2
					if tr[0] {
						lda = m + 1
					}
					if tr[1] {
						ldb = k + 2
					}
					a := randSlice(r, (m+k)*lda)
					b := randSlice(r, (k+n)*ldb)
					pb, err := PackB(k, n, b, ldb, tr[1])
					if err != nil {
						t.Fatal(err)
					}
					ldc := n + 1
					c := randSlice(r, m*ldc)
					want := append([]float32(nil), c...)
					refGemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 2, want, ldc, nil, false)
					if err := pb.Mul(tr[0], m, 0.5, a, lda, 2, c, ldc); err != nil {
						t.Fatal(err)
					}
					closeTo(t, fmt.Sprintf("m=%d n=%d k=%d trans=%v", m, n, k, tr), c, want, k)
				}
			}
		}
	}
	if _, err := PackB(3, 3, make([]float32, 5), 3, false); err == nil {
		t.Error("PackB of a short slice: no error")
	}
}
