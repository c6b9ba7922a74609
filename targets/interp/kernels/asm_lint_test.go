package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// legacySSE matches an instruction without the VEX prefix (its mnemonic
// does not start with V) that names an XMM register.
var legacySSE = regexp.MustCompile(`^\s*([A-UW-Z][A-Z0-9]*)\s+.*\bX([0-9]|1[0-5])\b`)

// TestAssemblyIsVEXOnly keeps legacy-encoded SSE instructions out of the
// AVX kernels. Between AVX instructions that leave the upper halves of
// the YMM registers dirty, a legacy SSE instruction costs a state
// transition: on the KVM-hosted AMD EPYC this was measured on, one scalar
// MOVSS per row tail made copyRows 23 times slower (1 GB/s instead of
// 22 GB/s) and float ResNet inference 2.3 times slower.
func TestAssemblyIsVEXOnly(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if m := legacySSE.FindStringSubmatch(code); m != nil {
				t.Errorf("%s:%d: %s is legacy SSE on an XMM register; use its VEX form V%s", f, i+1, m[1], m[1])
			}
		}
	}
}
