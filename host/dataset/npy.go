package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// npyArray is a decoded NumPy array in C (row-major) order.
type npyArray struct {
	shape []int
	dtype string // e.g. "<f4"
	kind  byte   // 'u', 'i' or 'f'
	size  int    // bytes per element
	data  any    // []uint8, []int8, []uint16, []int16, []uint32, []int32, []uint64, []int64, []float32 or []float64
}

// readNPY decodes a .npy file held in memory.
func readNPY(b []byte) (arr npyArray, err error) {
	// npyio's header parser may panic on malformed input: turn that into
	// an error.
	defer func() {
		if r := recover(); r != nil {
			arr, err = npyArray{}, errorf(ErrFormat, "malformed .npy header")
		}
	}()
	if err := checkNPYHeader(b); err != nil {
		return npyArray{}, err
	}
	br := bytes.NewReader(b)
	r, err := npy.NewReader(br)
	if err != nil {
		return npyArray{}, wrapf(ErrFormat, err, "not a .npy file")
	}
	arr.shape = append([]int(nil), r.Header.Descr.Shape...)
	arr.dtype = strings.Trim(r.Header.Descr.Type, `'" `)
	arr.kind, arr.size, err = parseDType(arr.dtype)
	if err != nil {
		return npyArray{}, err
	}
	if len(arr.shape) == 0 {
		return npyArray{}, errorf(ErrFormat, ".npy holds a scalar, want an array of shape (N, ...)")
	}
	n := uint64(1)
	limit := uint64(br.Len()) / uint64(arr.size)
	for _, d := range arr.shape {
		if d < 0 {
			return npyArray{}, errorf(ErrFormat, ".npy shape %v has a negative dimension", arr.shape)
		}
		if d != 0 && n > limit/uint64(d) {
			return npyArray{}, errorf(ErrFormat, ".npy shape %v of %s needs more than the %d data bytes the file holds", arr.shape, arr.dtype, br.Len())
		}
		n *= uint64(d)
	}
	arr.data, err = readTyped(r, arr.kind, arr.size, int(n))
	if err != nil {
		return npyArray{}, wrapf(ErrFormat, err, "reading .npy data")
	}
	if r.Header.Descr.Fortran {
		arr.data = fortranToC(arr.data, arr.shape)
	}
	return arr, nil
}

// checkNPYHeader checks the magic number, the version and that the header
// length fits in b, before npyio allocates a buffer of that length.
func checkNPYHeader(b []byte) error {
	if len(b) < 10 || !bytes.HasPrefix(b, npy.Magic[:]) {
		return errorf(ErrFormat, "not a .npy file (no \\x93NUMPY magic)")
	}
	var start, n int
	switch b[6] {
	case 1:
		start, n = 10, int(binary.LittleEndian.Uint16(b[8:]))
	case 2:
		if len(b) < 12 {
			return errorf(ErrFormat, "truncated .npy header")
		}
		start, n = 12, int(binary.LittleEndian.Uint32(b[8:]))
	default:
		return errorf(ErrFormat, ".npy format version %d is not supported", b[6])
	}
	if n > len(b)-start {
		return errorf(ErrFormat, "truncated .npy header (%d bytes announced, %d present)", n, len(b)-start)
	}
	return nil
}

// parseDType parses a simple NumPy dtype string such as "<f4" or "|u1".
func parseDType(s string) (kind byte, size int, err error) {
	bad := errorf(ErrFormat, ".npy dtype %q is not supported (want uint8, integer, float32 or float64 elements)", s)
	if len(s) < 3 || !strings.ContainsRune("<>|=", rune(s[0])) {
		return 0, 0, bad
	}
	kind = s[1]
	size, err = strconv.Atoi(s[2:])
	if err != nil {
		return 0, 0, bad
	}
	switch {
	case (kind == 'u' || kind == 'i') && (size == 1 || size == 2 || size == 4 || size == 8):
	case kind == 'f' && (size == 4 || size == 8):
	default:
		return 0, 0, bad
	}
	return kind, size, nil
}

// readTyped reads n elements of the given kind and size through npyio.
func readTyped(r *npy.Reader, kind byte, size, n int) (any, error) {
	switch int(kind)<<4 | size {
	case 'u'<<4 | 1:
		return readSlice[uint8](r, n)
	case 'i'<<4 | 1:
		return readSlice[int8](r, n)
	case 'u'<<4 | 2:
		return readSlice[uint16](r, n)
	case 'i'<<4 | 2:
		return readSlice[int16](r, n)
	case 'u'<<4 | 4:
		return readSlice[uint32](r, n)
	case 'i'<<4 | 4:
		return readSlice[int32](r, n)
	case 'u'<<4 | 8:
		return readSlice[uint64](r, n)
	case 'i'<<4 | 8:
		return readSlice[int64](r, n)
	case 'f'<<4 | 4:
		return readSlice[float32](r, n)
	case 'f'<<4 | 8:
		return readSlice[float64](r, n)
	}
	return nil, fmt.Errorf("unsupported element type %c%d", kind, size)
}

// readSlice reads n elements of type T.
func readSlice[T any](r *npy.Reader, n int) ([]T, error) {
	s := make([]T, n)
	if n == 0 {
		return s, nil
	}
	if err := r.Read(&s); err != nil {
		return nil, err
	}
	return s, nil
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(data any, shape []int) any {
	switch s := data.(type) {
	case []uint8:
		return transposeF(s, shape)
	case []int8:
		return transposeF(s, shape)
	case []uint16:
		return transposeF(s, shape)
	case []int16:
		return transposeF(s, shape)
	case []uint32:
		return transposeF(s, shape)
	case []int32:
		return transposeF(s, shape)
	case []uint64:
		return transposeF(s, shape)
	case []int64:
		return transposeF(s, shape)
	case []float32:
		return transposeF(s, shape)
	case []float64:
		return transposeF(s, shape)
	}
	return data
}

// transposeF reorders column-major src of the given shape to row-major.
func transposeF[T any](src []T, shape []int) []T {
	dst := make([]T, len(src))
	if len(src) == 0 {
		return dst
	}
	// Column-major strides: the first axis varies fastest.
	fstride := make([]int, len(shape))
	st := 1
	for i, d := range shape {
		fstride[i] = st
		st *= d
	}
	idx := make([]int, len(shape))
	for c := range dst {
		off := 0
		for i, v := range idx {
			off += v * fstride[i]
		}
		dst[c] = src[off]
		// Increment the row-major multi-index (last axis fastest).
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return dst
}
