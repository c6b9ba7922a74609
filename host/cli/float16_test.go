package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// The float16 hint of a float model that overflows follows the target's
// typed float precision (TargetCapabilities.float_precision), not its
// free-form properties: a target that says float16 only typed gets it, and
// so does a target of an older SDK that says it only in the property
// float_precision. The audio front end overflows half on its first Conv.
func TestFloat16HintFromCapabilities(t *testing.T) {
	extra := testPlugins(t, "pot-target-half", "pot-target-oldhalf")
	for _, name := range []string{"half", "oldhalf"} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := potWith(t, extra, "quantize", "-m", oww("melspectrogram.onnx"), "--data", oww("melspectrogram.npy"),
				"--target", name, "-o", filepath.Join(t.TempDir(), "mel.onnx"))
			if code == 0 || !strings.Contains(stderr, `node "Conv_2" (Conv) is the first`) {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "exceed float16's range (±65504) on this target") || !strings.Contains(stderr, "--target-opt float32=") {
				t.Errorf("no float16 hint: %s", stderr)
			}
		})
	}
}
