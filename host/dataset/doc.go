// Package dataset reads the calibration and evaluation data that pot feeds to
// a model: IDX files (MNIST-style), NumPy .npy/.npz arrays and folders of
// PNG/JPEG images, described by a small JSON descriptor whose paths are
// relative to the descriptor's folder:
//
//	{
//	  "format": "idx",
//	  "images": "mnist/t10k-images-idx3-ubyte.gz",
//	  "labels": "mnist/t10k-labels-idx1-ubyte.gz",
//	  "mean": [0.1307],
//	  "std": [0.3081]
//	}
//
// Open returns a Dataset: a fixed number of samples of one shape, each read
// into a caller-supplied []float32 after preprocessing
// ((value·scale − mean[c]) / std[c] per channel c), optionally with an
// integer class label. A bare folder of images (POT's "simplified" engine
// data_source) or a glob pattern opens as an unlabelled image folder, and a
// .npy or .npz file opens directly without a descriptor.
//
// Check compares the sample shape with a model input shape before any work
// is done, and Subset picks the deterministic subset of indices that
// statistics collection and evaluation use.
//
// Errors are one line, name the file at fault, and wrap the sentinel errors
// of this package (ErrDescriptor, ErrEmpty, ErrLabelCount, ErrFormat,
// ErrShapeMismatch) or fs.ErrNotExist so that callers can classify them.
package dataset
