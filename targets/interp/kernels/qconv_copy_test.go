package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCopyImage checks copyImage of channel-major images (transposed 8
// channels by 8 pixels at a time, the rest byte by byte) against the
// plain gather, for channel counts and widths around multiples of 8,
// with padding left as it was.
func TestCopyImage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, C := range []int{1, 3, 7, 8, 9, 16, 17, 24, 64} {
		for _, W := range []int{1, 5, 8, 9, 15, 16, 32, 33} {
			for _, H := range []int{1, 3} {
				padT, padL := 1, 2
				wp := W + 3
				x := make([]uint8, C*H*W)
				for i := range x {
					x[i] = uint8(r.Uint32())
				}
				want := make([]uint8, (H+2)*wp*C)
				for i := range want {
					want[i] = 0xA5 // the padding stays
				}
				got := slices.Clone(want)
				for h := 0; h < H; h++ {
					for w := 0; w < W; w++ {
						for c := 0; c < C; c++ {
							want[((h+padT)*wp+padL+w)*C+c] = x[(c*H+h)*W+w]
						}
					}
				}
				copyImage(got, x, false, C, H, W, padT, padL, wp)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: channels-last copy differs", fmt.Sprintf("C=%d H=%d W=%d", C, H, W))
				}
			}
		}
	}
}
