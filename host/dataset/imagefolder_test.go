package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/potgo/pot/sdk"
)

// pngBytes encodes an image as PNG.
func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngClaiming is a 1×1 gray PNG whose header claims w×h pixels (with a
// valid checksum): what a decompression bomb looks like to a decoder.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := pngBytes(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// signature (8), IHDR length (4), "IHDR" (4), width, height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// writeMNISTFolder writes the first n MNIST calibration images as
// grayscale PNGs into root/<label>/<index>.png and returns the raw pixels.
func writeMNISTFolder(t *testing.T, root string, n int) [][]byte {
	t.Helper()
	b, err := readMaybeGzip(filepath.Join(examples, "mnist/calib-1000-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := parseIDX(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := readMaybeGzip(filepath.Join(examples, "mnist/calib-1000-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	lbls, err := parseIDX(lb, 1)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([][]byte, n)
	for i := range n {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(g.Pix, imgs.data[i*784:(i+1)*784])
		raw[i] = g.Pix
		writeFile(t, root, fmt.Sprintf("%d/%03d.png", lbls.data[i], i), pngBytes(t, g))
	}
	return raw
}

// indexOf returns the MNIST index encoded in a file name such as 007.png.
func indexOf(t *testing.T, path string) int {
	t.Helper()
	i, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(path), ".png"))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestImageFolderMNIST writes MNIST samples as PNG files, one sub-folder
// per class, and checks that the image folder gives the same samples and
// labels as the IDX files.
func TestImageFolderMNIST(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	writeMNISTFolder(t, filepath.Join(dir, "png"), n)
	idx, err := Open(filepath.Join(examples, "mnist-calib.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, idxLabels := readAll(t, idx)
	ds, err := Open(writeFile(t, dir, "d.json", []byte(`{"format":"imagefolder","root":"png","mean":[0.1307],"std":[0.3081]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != n || !ds.Labelled() || !slices.Equal(ds.SampleShape(), []int{1, 28, 28}) {
		t.Fatalf("Len %d labelled %v shape %v, want %d true [1 28 28]", ds.Len(), ds.Labelled(), ds.SampleShape(), n)
	}
	classes := ds.(Classes).Classes()
	if !slices.IsSorted(classes) || len(classes) != 10 {
		t.Errorf("classes = %v, want 10 sorted digit folders", classes)
	}
	files := ds.(*folderData).Files()
	got := make([]float32, 784)
	want := make([]float32, 784)
	for i := range ds.Len() {
		l, err := ds.Read(i, got)
		if err != nil {
			t.Fatal(err)
		}
		orig := indexOf(t, files[i])
		if classes[l] != strconv.Itoa(idxLabels[orig]) {
			t.Errorf("sample %d (%s): class %q, want %d", i, files[i], classes[l], idxLabels[orig])
		}
		if _, err := idx.Read(orig, want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("sample %d (%s) differs from IDX sample %d", i, files[i], orig)
		}
	}
	// Concurrent decoding gives the same samples.
	batch := make([]float32, n*784)
	labels, err := ReadBatch(context.Background(), ds, indices(sdk.Subset(n, 0, 0, false)), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		l, err := ds.Read(i, got)
		if err != nil {
			t.Fatal(err)
		}
		if l != labels[i] || !slices.Equal(got, batch[i*784:(i+1)*784]) {
			t.Fatalf("ReadBatch sample %d differs from Read", i)
		}
	}
}

// TestBareFolder opens a folder of images without a descriptor, as POT's
// simplified engine does, and fits it to model input shapes.
func TestBareFolder(t *testing.T) {
	dir := t.TempDir()
	raw := writeMNISTFolder(t, dir, 12)

	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 12 || ds.Labelled() || !slices.Equal(ds.SampleShape(), []int{1, 28, 28}) {
		t.Fatalf("Len %d labelled %v shape %v, want 12 false [1 28 28]", ds.Len(), ds.Labelled(), ds.SampleShape())
	}
	// Default preprocessing: byte/255.
	files := ds.(*folderData).Files()
	dst := make([]float32, 784)
	if _, err := ds.Read(3, dst); err != nil {
		t.Fatal(err)
	}
	orig := raw[indexOf(t, files[3])]
	for j := range dst {
		if !near(dst[j], float64(orig[j])/255) {
			t.Fatalf("pixel %d = %v, want %v", j, dst[j], float64(orig[j])/255)
		}
	}

	// A model that wants 3×32×32: gray is replicated, images are resized.
	ds, err = Open(dir, WithInputShape([]int{-1, 3, 32, 32}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.SampleShape(), []int{3, 32, 32}) {
		t.Fatalf("shape %v, want [3 32 32]", ds.SampleShape())
	}
	dst = make([]float32, 3*32*32)
	if _, err := ds.Read(0, dst); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst[:1024], dst[1024:2048]) || !slices.Equal(dst[:1024], dst[2048:]) {
		t.Error("the three channels of a gray image differ")
	}
	if dst[0] != 0 || dst[1023] != 0 {
		t.Errorf("corners = %v %v, want the black background 0", dst[0], dst[1023])
	}

	// A model that wants NHWC [N 28 28 1], with defaults for the rest.
	ds, err = Open(dir, WithInputShape([]int{-1, 28, 28, 1}), WithDefaults(Descriptor{Mean: []float64{0.5}, Std: []float64{0.5}}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.SampleShape(), []int{28, 28, 1}) {
		t.Fatalf("shape %v, want [28 28 1]", ds.SampleShape())
	}
	if _, err := ds.Read(3, dst[:784]); err != nil {
		t.Fatal(err)
	}
	if want := (float64(orig[14*28+14])/255 - 0.5) / 0.5; !near(dst[14*28+14], want) {
		t.Errorf("pixel (14,14) = %v, want %v", dst[14*28+14], want)
	}

	// A glob pattern.
	ds, err = Open(filepath.Join(dir, "[03]", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	m0, _ := filepath.Glob(filepath.Join(dir, "0", "*.png"))
	m3, _ := filepath.Glob(filepath.Join(dir, "3", "*.png"))
	if ds.Len() != len(m0)+len(m3) || ds.Len() == 0 {
		t.Errorf("glob gives %d samples, want %d", ds.Len(), len(m0)+len(m3))
	}
}

// rgbImage builds a 3×2 opaque image with distinct channel values: pixel
// (x, y) is (v, 100+v, 200+v) with v = 10x+y.
func rgbImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			v := uint8(10*x + y)
			img.SetNRGBA(x, y, color.NRGBA{R: v, G: 100 + v, B: 200 + v, A: 255})
		}
	}
	return img
}

// TestImageOptions checks layout, color order, grayscale conversion, crop
// and resize on small images with hand-computed values.
func TestImageOptions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "rgb/a.png", pngBytes(t, rgbImage()))
	red := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	red.SetNRGBA(0, 0, color.NRGBA{R: 255, A: 255})
	writeFile(t, dir, "red/a.png", pngBytes(t, red))
	flat := image.NewGray(image.Rect(0, 0, 2, 2))
	for i := range flat.Pix {
		flat.Pix[i] = 100
	}
	writeFile(t, dir, "flat/a.png", pngBytes(t, flat))

	// Scale 1 keeps raw byte values, which makes the tables readable.
	tests := []struct {
		name       string
		descriptor string
		shape      []int
		want       []float64
	}{
		{"NCHW RGB", `{"root":"rgb"}`, []int{3, 2, 3},
			[]float64{0, 10, 20, 1, 11, 21, 100, 110, 120, 101, 111, 121, 200, 210, 220, 201, 211, 221}},
		{"NHWC RGB", `{"root":"rgb","layout":"NHWC"}`, []int{2, 3, 3},
			[]float64{0, 100, 200, 10, 110, 210, 20, 120, 220, 1, 101, 201, 11, 111, 211, 21, 121, 221}},
		{"NCHW BGR", `{"root":"rgb","color_order":"BGR"}`, []int{3, 2, 3},
			[]float64{200, 210, 220, 201, 211, 221, 100, 110, 120, 101, 111, 121, 0, 10, 20, 1, 11, 21}},
		{"per-channel mean std", `{"root":"rgb","mean":[0,100,200],"std":[1,10,100],"crop":1}`, []int{3, 1, 1},
			// centre of 3×2 with crop 1: left = round(1) = 1, top = round_half_even(0.5) = 0.
			[]float64{10, 1, 0.1}},
		{"crop 2", `{"root":"rgb","crop":2,"channels":1}`, []int{1, 2, 2},
			// left = round_half_even(0.5) = 0; gray = (19595R + 38470G + 7471B + 2^15) >> 24 on 16-bit values.
			[]float64{gray(0, 100, 200), gray(10, 110, 210), gray(1, 101, 201), gray(11, 111, 211)}},
		{"red to gray", `{"root":"red","channels":1}`, []int{1, 1, 1}, []float64{76}},
		{"gray to color", `{"root":"flat","channels":3}`, []int{3, 2, 2}, []float64{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100}},
		{"resize constant", `{"root":"flat","resize":4}`, []int{1, 4, 4}, slices.Repeat([]float64{100}, 16)},
		{"resize and crop", `{"root":"flat","resize":5,"crop":3}`, []int{1, 3, 3}, slices.Repeat([]float64{100}, 9)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			desc := strings.Replace(tc.descriptor, "{", `{"format":"imagefolder","scale":1,`, 1)
			ds, err := Open(writeFile(t, dir, "d.json", []byte(desc)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.SampleShape(), tc.shape) {
				t.Fatalf("shape %v, want %v", ds.SampleShape(), tc.shape)
			}
			samples, labels := readAll(t, ds)
			if labels[0] != -1 {
				t.Errorf("label %d of a flat folder, want -1", labels[0])
			}
			for j, w := range tc.want {
				if !near(samples[0][j], w) {
					t.Errorf("value %d = %v, want %v", j, samples[0][j], w)
				}
			}
		})
	}
}

// gray is Go's 8-bit luma of an 8-bit RGB color.
func gray(r, g, b uint32) float64 {
	r, g, b = r*0x101, g*0x101, b*0x101
	return float64((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}

// TestJPEG reads a uniform JPEG image (lossy: values within 2 of 128).
func TestJPEG(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "a.JPG", b.Bytes())
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	samples, _ := readAll(t, ds)
	if !slices.Equal(ds.SampleShape(), []int{1, 8, 8}) {
		t.Fatalf("shape %v, want [1 8 8]", ds.SampleShape())
	}
	for j, v := range samples[0] {
		if math.Abs(float64(v)-128.0/255) > 2.0/255 {
			t.Fatalf("value %d = %v, want about %v", j, v, 128.0/255)
		}
	}
}

// TestGeometry checks resize and centre-crop planning against
// torchvision's rules, computed by hand.
func TestGeometry(t *testing.T) {
	tests := []struct {
		name   string
		g      geometry
		w, h   int
		rw, rh int
		crop   image.Rectangle
	}{
		{"none", geometry{}, 28, 28, 28, 28, image.Rect(0, 0, 28, 28)},
		{"resize landscape", geometry{resize: 256}, 640, 480, 341, 256, image.Rect(0, 0, 341, 256)},
		{"resize portrait", geometry{resize: 256}, 480, 640, 256, 341, image.Rect(0, 0, 256, 341)},
		{"resize crop", geometry{resize: 256, cropW: 224, cropH: 224}, 640, 480, 341, 256, image.Rect(58, 16, 282, 240)},
		{"crop odd", geometry{cropW: 28, cropH: 28}, 31, 29, 31, 29, image.Rect(2, 0, 30, 28)},
		{"cover square", geometry{coverW: 32, coverH: 32, cropW: 32, cropH: 32}, 28, 28, 32, 32, image.Rect(0, 0, 32, 32)},
		{"cover wide", geometry{coverW: 16, coverH: 16, cropW: 16, cropH: 16}, 40, 20, 32, 16, image.Rect(8, 0, 24, 16)},
		{"cover same", geometry{coverW: 28, coverH: 28, cropW: 28, cropH: 28}, 28, 28, 28, 28, image.Rect(0, 0, 28, 28)},
	}
	// Sizes from a descriptor or a model input, which once made pixels
	// allocate their square.
	for _, tc := range []struct {
		g    geometry
		w, h int
		want string
	}{
		{geometry{resize: 1 << 40}, 28, 28, "resizing a 28×28 image to 1099511627776 (or to cover 0×0) asks for more than the 134217728 pixels pot reads"},
		{geometry{resize: 100000}, 28, 28, "resizing a 28×28 image gives 100000×100000 pixels"},
		{geometry{resize: 1 << 26}, 1, 1 << 26, "resizing a 1×67108864 image gives"},
		{geometry{coverW: 1 << 20, coverH: 1 << 20, cropW: 1 << 20, cropH: 1 << 20}, 28, 28, "gives 1048576×1048576 pixels"},
		{geometry{}, 1 << 20, 1 << 20, "image of 1048576×1048576 pixels"},
	} {
		if _, _, _, err := tc.g.plan(tc.w, tc.h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v of %d×%d: %v, want %q", tc.g, tc.w, tc.h, err, tc.want)
		}
	}
	for _, tc := range tests {
		rw, rh, crop, err := tc.g.plan(tc.w, tc.h)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if rw != tc.rw || rh != tc.rh || crop != tc.crop {
			t.Errorf("%s: plan(%d, %d) = %d×%d crop %v, want %d×%d crop %v", tc.name, tc.w, tc.h, rw, rh, crop, tc.rw, tc.rh, tc.crop)
		}
	}
	if _, _, _, err := (geometry{cropW: 30, cropH: 30}).plan(28, 28); err == nil {
		t.Error("crop 30 of a 28×28 image: no error")
	}
}

// TestImageFolderErrors checks the one-line errors for bad image folders.
func TestImageFolderErrors(t *testing.T) {
	dir := t.TempDir()
	g28 := pngBytes(t, image.NewGray(image.Rect(0, 0, 28, 28)))
	writeFile(t, dir, "sizes/a.png", g28)
	writeFile(t, dir, "sizes/b.png", pngBytes(t, image.NewGray(image.Rect(0, 0, 32, 32))))
	writeFile(t, dir, "aspect/a.png", g28)
	writeFile(t, dir, "aspect/b.png", pngBytes(t, image.NewGray(image.Rect(0, 0, 40, 28))))
	writeFile(t, dir, "chans/a.png", g28)
	writeFile(t, dir, "chans/b.png", pngBytes(t, image.NewNRGBA(image.Rect(0, 0, 28, 28))))
	writeFile(t, dir, "mixed/a.png", g28)
	writeFile(t, dir, "mixed/cls/b.png", g28)
	writeFile(t, dir, "corrupt/a.png", []byte("\x89PNG garbage"))
	writeFile(t, dir, "notes/readme.txt", []byte("no images here"))
	writeFile(t, dir, "huge/a.png", pngClaiming(t, 100000, 100000))
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		descriptor string
		kind       error
		fragments  []string
	}{
		{"missing root", `{"root":"nope"}`, os.ErrNotExist, []string{"image folder", "nope", "no such file"}},
		{"root is a file", `{"root":"sizes/a.png"}`, ErrFormat, []string{"a.png", "not a folder"}},
		{"empty", `{"root":"empty"}`, ErrEmpty, []string{"empty", "no PNG or JPEG images"}},
		{"no images", `{"root":"notes"}`, ErrEmpty, []string{"notes", "no PNG or JPEG images"}},
		{"sizes", `{"root":"sizes"}`, ErrFormat, []string{"b.png is 32×32", "a.png is 28×28", `set "resize"`}},
		{"sizes after resize", `{"root":"aspect","resize":30}`, ErrFormat, []string{"b.png gives 42×30", "a.png gives 30×30"}},
		{"channels", `{"root":"chans"}`, ErrFormat, []string{"b.png has 3 channels", "a.png has 1", `set "channels"`}},
		{"mixed", `{"root":"mixed"}`, ErrFormat, []string{"mixed", "both images", "class folders"}},
		{"corrupt", `{"root":"corrupt"}`, ErrFormat, []string{"corrupt/a.png", "not a readable PNG or JPEG"}},
		{"too many pixels", `{"root":"huge"}`, ErrFormat, []string{"huge/a.png is 100000×100000 pixels, more than the 134217728 pot reads: downscale it"}},
		{"mean length", `{"root":"sizes","crop":20,"mean":[0.1,0.2,0.3]}`, ErrDescriptor, []string{`"mean" has 3 values but the data has 1 channel`}},
		{"crop too large", `{"root":"sizes","crop":30}`, ErrFormat, []string{"a.png", "crop 30×30 is larger than the image (28×28"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			desc := strings.Replace(tc.descriptor, "{", `{"format":"imagefolder",`, 1)
			path := writeFile(t, dir, "d.json", []byte(desc))
			_, err := Open(path)
			wantErr(t, err, tc.kind, append([]string{path}, tc.fragments...)...)
		})
	}
	// Converting channels or resizing makes the same folders valid.
	for _, desc := range []string{`{"format":"imagefolder","root":"chans","channels":3}`, `{"format":"imagefolder","root":"sizes","resize":28,"crop":28}`} {
		if _, err := Open(writeFile(t, dir, "ok.json", []byte(desc))); err != nil {
			t.Errorf("%s: %v", desc, err)
		}
	}
	// A missing bare folder and an empty glob.
	_, err := Open(filepath.Join(dir, "nowhere"))
	wantErr(t, err, os.ErrNotExist, "nowhere")
	_, err = Open(filepath.Join(dir, "empty", "*.png"))
	wantErr(t, err, ErrEmpty, "*.png", "no PNG or JPEG images match")
}
