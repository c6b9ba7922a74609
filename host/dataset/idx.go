package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte) and the number of dimensions.
const (
	idxUbyte        = 0x08
	idxImagesMagic  = 0x00000803
	idxLabelsMagic  = 0x00000801
	idxHeaderPrefix = 4
)

// idxArray is a decoded IDX file of unsigned bytes.
type idxArray struct {
	dims []int
	data []byte
}

// parseIDX decodes an IDX file of unsigned bytes with ndim dimensions. The
// payload aliases b.
func parseIDX(b []byte, ndim int) (idxArray, error) {
	want := uint32(idxUbyte<<8 | ndim)
	if len(b) < idxHeaderPrefix {
		return idxArray{}, errorf(ErrFormat, "bad IDX magic: file has only %d bytes", len(b))
	}
	magic := binary.BigEndian.Uint32(b)
	if magic != want {
		return idxArray{}, errorf(ErrFormat, "bad IDX magic 0x%08x, want 0x%08x (%s)", magic, want, idxKind(ndim))
	}
	head := idxHeaderPrefix + 4*ndim
	if len(b) < head {
		return idxArray{}, errorf(ErrFormat, "truncated IDX header: %d bytes, want %d", len(b), head)
	}
	dims := make([]int, ndim)
	payload := b[head:]
	total, tooBig := uint64(1), false
	for i := range dims {
		d := uint64(binary.BigEndian.Uint32(b[idxHeaderPrefix+4*i:]))
		dims[i] = int(d)
		if d != 0 && total > uint64(len(payload))/d {
			tooBig = true
		}
		total *= d
	}
	if tooBig || uint64(len(payload)) != total {
		return idxArray{}, errorf(ErrFormat, "IDX dimensions %v do not match the %d data bytes of the file", dims, len(payload))
	}
	return idxArray{dims: dims, data: payload}, nil
}

// idxKind describes the IDX file with ndim dimensions that pot reads.
func idxKind(ndim int) string {
	switch ndim {
	case 3:
		return "an idx3-ubyte image file"
	case 1:
		return "an idx1-ubyte label file"
	}
	return fmt.Sprintf("an idx%d-ubyte file", ndim)
}

// readMaybeGzip reads a whole file, decompressing it when it starts with
// the gzip magic number.
func readMaybeGzip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, notExist(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, wrapf(ErrFormat, err, "bad gzip data")
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, wrapf(ErrFormat, err, "bad gzip data")
	}
	return out, nil
}

// idxData is an IDX image set held in memory.
type idxData struct {
	name   string
	n      int
	shape  []int // [1 H W]
	pix    []byte
	labels []byte // nil when unlabelled
	lut    [256]float32
}

// openIDX opens the IDX data set of descriptor d.
func openIDX(name, dir string, d Descriptor) (Dataset, error) {
	imgPath := resolve(dir, d.Images)
	b, err := readMaybeGzip(imgPath)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: images file %s: %w", name, imgPath, err)
	}
	img, err := parseIDX(b, 3)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: images file %s: %w", name, imgPath, err)
	}
	n, h, w := img.dims[0], img.dims[1], img.dims[2]
	if n == 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("dataset %s: images file %s: %w", name, imgPath,
			errorf(ErrEmpty, "no images (dimensions %d×%d×%d)", n, h, w))
	}
	ds := &idxData{name: imgPath, n: n, shape: []int{1, h, w}, pix: img.data}
	if d.Labels != "" {
		lblPath := resolve(dir, d.Labels)
		lb, err := readMaybeGzip(lblPath)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: labels file %s: %w", name, lblPath, err)
		}
		lbl, err := parseIDX(lb, 1)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: labels file %s: %w", name, lblPath, err)
		}
		if lbl.dims[0] != n {
			return nil, fmt.Errorf("dataset %s: %w", name,
				errorf(ErrLabelCount, "%d labels in %s but %d images in %s", lbl.dims[0], lblPath, n, imgPath))
		}
		ds.labels = lbl.data
	}
	norm, err := newNormalizer(d, 1, 1.0/255, false)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	ds.lut = norm.lut()[0]
	return ds, nil
}

// Len implements Dataset.
func (ds *idxData) Len() int { return ds.n }

// SampleShape implements Dataset.
func (ds *idxData) SampleShape() []int { return ds.shape }

// Labelled implements Dataset.
func (ds *idxData) Labelled() bool { return ds.labels != nil }

// Read implements Dataset.
func (ds *idxData) Read(i int, dst []float32) (int, error) {
	if err := checkRead(ds, i, dst); err != nil {
		return -1, fmt.Errorf("%s: %w", ds.name, err)
	}
	size := len(dst)
	for j, v := range ds.pix[i*size : (i+1)*size] {
		dst[j] = ds.lut[v]
	}
	if ds.labels == nil {
		return -1, nil
	}
	return int(ds.labels[i]), nil
}

// String describes the data set.
func (ds *idxData) String() string {
	return fmt.Sprintf("idx %s: %d samples of shape %v, labelled=%v", ds.name, ds.n, slices.Clone(ds.shape), ds.Labelled())
}
