package dataset

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/draw"
)

// folderData is a data set of image files, decoded on demand.
type folderData struct {
	name     string // root folder or glob pattern
	files    []string
	labels   []int // nil when unlabelled
	classes  []string
	geo      geometry
	channels int
	last     bool // NHWC
	bgr      bool
	w, h     int // output size
	shape    []int
	lut      [][256]float32
}

// isImage reports whether a file name has a PNG or JPEG extension.
func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// hidden reports whether a file or folder name starts with a dot.
func hidden(name string) bool { return strings.HasPrefix(name, ".") && name != "." && name != ".." }

// listImages returns the image files under dir, recursively, sorted.
func listImages(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && hidden(e.Name()) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.IsDir() && isImage(p) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// openImageFolder opens the image folder root. With recursive, every image
// below root is an unlabelled sample (a bare folder); otherwise root holds
// either images (unlabelled) or one sub-folder of images per class.
func openImageFolder(name, root string, d Descriptor, hint inputHint, recursive bool) (Dataset, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: image folder %s: %w", name, root, notExist(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("dataset %s: image folder %s: %w", name, root, errorf(ErrFormat, "not a folder"))
	}
	var (
		files   []string
		labels  []int
		classes []string
	)
	if recursive {
		if files, err = listImages(root); err != nil {
			return nil, fmt.Errorf("dataset %s: image folder %s: %w", name, root, err)
		}
	} else if files, labels, classes, err = scanClasses(root); err != nil {
		return nil, fmt.Errorf("dataset %s: image folder %s: %w", name, root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset %s: image folder %s: %w", name, root, errorf(ErrEmpty, "no PNG or JPEG images"))
	}
	ds, err := newFolderData(root, files, labels, classes, d, hint)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	return ds, nil
}

// openGlob opens the image files matching a glob pattern as an unlabelled
// image folder.
func openGlob(pattern string, cfg openConfig) (Dataset, error) {
	d := cfg.defaults.merge(Descriptor{Format: FormatImageFolder, Root: pattern})
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pattern, err)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: bad pattern: %w", pattern, err)
	}
	var files []string
	for _, m := range matches {
		if isImage(m) {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataset %s: %w", pattern, errorf(ErrEmpty, "no PNG or JPEG images match"))
	}
	slices.Sort(files)
	ds, err := newFolderData(pattern, files, nil, nil, d, cfg.hint)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pattern, err)
	}
	return ds, nil
}

// scanClasses lists root's images: those directly inside it (unlabelled),
// or those of each class sub-folder, classes sorted by name.
func scanClasses(root string) (files []string, labels []int, classes []string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, nil, err
	}
	var dirs []string
	for _, e := range entries {
		switch {
		case hidden(e.Name()):
		case e.IsDir():
			dirs = append(dirs, e.Name())
		case isImage(e.Name()):
			files = append(files, filepath.Join(root, e.Name()))
		}
	}
	if len(files) > 0 {
		for _, dir := range dirs {
			sub, err := listImages(filepath.Join(root, dir))
			if err != nil {
				return nil, nil, nil, err
			}
			if len(sub) > 0 {
				return nil, nil, nil, errorf(ErrFormat, "holds both images (%s) and class folders of images (%s): use one or the other", filepath.Base(files[0]), dir)
			}
		}
		return files, nil, nil, nil
	}
	for c, dir := range dirs {
		sub, err := listImages(filepath.Join(root, dir))
		if err != nil {
			return nil, nil, nil, err
		}
		for _, f := range sub {
			files = append(files, f)
			labels = append(labels, c)
		}
	}
	return files, labels, dirs, nil
}

// imageChannels is the channel count of a color model: 1 for gray, else 3.
func imageChannels(m color.Model) int {
	if m == color.GrayModel || m == color.Gray16Model {
		return 1
	}
	return 3
}

// newFolderData resolves the options against the first image and checks
// that every image gives a sample of the same shape.
func newFolderData(name string, files []string, labels []int, classes []string, d Descriptor, hint inputHint) (*folderData, error) {
	ds := &folderData{name: name, files: files, labels: labels, classes: classes}
	var err error
	if ds.last, err = parseLayout(firstOf(d.Layout, hint.layout)); err != nil {
		return nil, err
	}
	if ds.bgr, err = parseColorOrder(d.ColorOrder); err != nil {
		return nil, err
	}
	ds.geo = geometry{resize: d.Resize, cropW: d.Crop, cropH: d.Crop}
	if hint.width > 0 && hint.height > 0 && d.Crop == 0 {
		ds.geo.cropW, ds.geo.cropH = hint.width, hint.height
		if d.Resize == 0 {
			ds.geo.coverW, ds.geo.coverH = hint.width, hint.height
		}
	}
	ds.channels = d.Channels
	if ds.channels == 0 && (hint.channels == 1 || hint.channels == 3) {
		ds.channels = hint.channels
	}
	convert := ds.channels != 0
	firstC := 0
	for i, f := range files {
		cfg, err := decodeConfig(f)
		if err != nil {
			return nil, err
		}
		_, _, crop, err := ds.geo.plan(cfg.Width, cfg.Height)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", f, err)
		}
		w, h := crop.Dx(), crop.Dy()
		c := imageChannels(cfg.ColorModel)
		if i == 0 {
			ds.w, ds.h, firstC = w, h, c
			if ds.channels == 0 {
				ds.channels = c
			}
			continue
		}
		if w != ds.w || h != ds.h {
			how := "is"
			if ds.geo.resizes() || ds.geo.crops() {
				how = "gives"
			}
			return nil, errorf(ErrFormat, "image %s %s %d×%d but %s %s %d×%d: set \"resize\" and \"crop\" to make them equal",
				f, how, w, h, files[0], how, ds.w, ds.h)
		}
		if !convert && c != firstC {
			return nil, errorf(ErrFormat, "image %s has %d channel%s but %s has %d: set \"channels\" to convert them",
				f, c, plural(c), files[0], firstC)
		}
	}
	if ds.last {
		ds.shape = []int{ds.h, ds.w, ds.channels}
	} else {
		ds.shape = []int{ds.channels, ds.h, ds.w}
	}
	norm, err := newNormalizer(d, ds.channels, 1.0/255, false)
	if err != nil {
		return nil, err
	}
	ds.lut = norm.lut()
	return ds, nil
}

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// maxImagePixels bounds the images pot decodes: 128 Mi pixels (a
// 16384×8192 image), which the decoders allocate in full (up to 1 GiB
// for 16-bit RGBA) from the size the file's header claims, before they
// read any pixel. A variable so tests can lower it.
var maxImagePixels = 1 << 27

// decodeConfig reads an image's size and color model.
func decodeConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("image %s: %w", path, notExist(err))
	}
	defer f.Close()
	return configOf(f, path)
}

// configOf reads the size and color model of the image r holds and
// checks that it has pixels, not more than maxImagePixels.
func configOf(r io.Reader, path string) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return image.Config{}, wrapf(ErrFormat, err, "image %s: not a readable PNG or JPEG", path)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return image.Config{}, errorf(ErrEmpty, "image %s has no pixels", path)
	}
	if cfg.Width > maxImagePixels/cfg.Height {
		return image.Config{}, errorf(ErrFormat, "image %s is %d×%d pixels, more than the %d pot reads: downscale it", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	return cfg, nil
}

// decode reads a whole image, checking its size first (the file may
// have changed since the data set was opened).
func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, notExist(err))
	}
	defer f.Close()
	if _, err := configOf(f, path); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, wrapf(ErrFormat, err, "image %s: not a readable PNG or JPEG", path)
	}
	return img, nil
}

// Len implements Dataset.
func (ds *folderData) Len() int { return len(ds.files) }

// SampleShape implements Dataset.
func (ds *folderData) SampleShape() []int { return ds.shape }

// Labelled implements Dataset.
func (ds *folderData) Labelled() bool { return ds.labels != nil }

// Classes implements Classes: the class folder names, in label order.
func (ds *folderData) Classes() []string { return ds.classes }

// Files returns the image file of each sample, in sample order.
func (ds *folderData) Files() []string { return ds.files }

// Read implements Dataset: it decodes, resizes, crops and converts image i.
func (ds *folderData) Read(i int, dst []float32) (int, error) {
	if err := checkRead(ds, i, dst); err != nil {
		return -1, fmt.Errorf("%s: %w", ds.name, err)
	}
	img, err := decode(ds.files[i])
	if err != nil {
		return -1, err
	}
	pix, stride, err := ds.pixels(img)
	if err != nil {
		return -1, fmt.Errorf("image %s: %w", ds.files[i], err)
	}
	ds.write(pix, stride, dst)
	if ds.labels == nil {
		return -1, nil
	}
	return ds.labels[i], nil
}

// pixels resizes and crops img and returns its 8-bit pixels, gray (one
// byte per pixel) or RGBA (four), with the row stride.
func (ds *folderData) pixels(img image.Image) ([]byte, int, error) {
	b := img.Bounds()
	rw, rh, crop, err := ds.geo.plan(b.Dx(), b.Dy())
	if err != nil {
		return nil, 0, err
	}
	if crop.Dx() != ds.w || crop.Dy() != ds.h {
		return nil, 0, errorf(ErrFormat, "gives %d×%d pixels, the other images %d×%d", crop.Dx(), crop.Dy(), ds.w, ds.h)
	}
	src := img
	if rw != b.Dx() || rh != b.Dy() {
		scaled := ds.newImage(rw, rh)
		draw.BiLinear.Scale(scaled, scaled.Bounds(), img, b, draw.Src, nil)
		src = scaled
	}
	if g, ok := src.(*image.Gray); ok && ds.channels == 1 && crop == g.Rect.Sub(g.Rect.Min) {
		return g.Pix, g.Stride, nil
	}
	out := ds.newImage(ds.w, ds.h)
	draw.Draw(out, out.Bounds(), src, src.Bounds().Min.Add(crop.Min), draw.Src)
	switch o := out.(type) {
	case *image.Gray:
		return o.Pix, o.Stride, nil
	case *image.RGBA:
		return o.Pix, o.Stride, nil
	}
	return nil, 0, fmt.Errorf("internal: unexpected image type %T", out)
}

// newImage allocates an 8-bit image with the data set's channel count.
func (ds *folderData) newImage(w, h int) draw.Image {
	if ds.channels == 1 {
		return image.NewGray(image.Rect(0, 0, w, h))
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

// write normalizes 8-bit pixels into dst in the data set's layout and
// color order.
func (ds *folderData) write(pix []byte, stride int, dst []float32) {
	w, h, nc := ds.w, ds.h, ds.channels
	bpp := 1
	if nc == 3 {
		bpp = 4
	}
	for c := range nc {
		sc := c
		if ds.bgr && nc == 3 {
			sc = 2 - c
		}
		lut := &ds.lut[c]
		for y := range h {
			row := pix[y*stride:]
			for x := range w {
				v := lut[row[x*bpp+sc]]
				if ds.last {
					dst[(y*w+x)*nc+c] = v
				} else {
					dst[(c*h+y)*w+x] = v
				}
			}
		}
	}
}

// String describes the data set.
func (ds *folderData) String() string {
	return fmt.Sprintf("image folder %s: %d samples of shape %v, labelled=%v", ds.name, len(ds.files), ds.shape, ds.Labelled())
}
