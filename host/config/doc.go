// Package config reads pot's configuration files, which are OpenVINO POT
// configuration files: JSON with comments (and trailing commas) with three
// sections.
//
//	{
//	  "model": {"model_name": "lenet", "model": "../models/lenet_mnist.onnx"},
//	  "engine": {"type": "simplified", "data_source": "../data/mnist-calib.json"},
//	  "compression": {
//	    "target_device": "CPU",
//	    "algorithms": [{"name": "DefaultQuantization", "params": {"preset": "performance"}}]
//	  }
//	}
//
// The model is an ONNX file. The engine says where the data comes from:
//
//   - "simplified": data_source is a folder (or glob) of images, a data set
//     descriptor file, or a .npy/.npz file; "dataset" gives a descriptor
//     inline instead; "layout" sets the image layout of a bare folder.
//   - "data_free": samples are generated (standard normal values) with the
//     model input's shape, or "shape" when the input has symbolic sizes
//     (an object of input names to shapes for several inputs);
//     "subset_size" of them (default: the largest stat_subset_size, or 300).
//
// pot adds "constants" (values of model inputs the data does not feed, an
// object of input names to numbers or nested lists), "output" (the
// model output metrics read) and "hw_config" (a hardware config file in
// POT's layout that replaces the one the target describes, as
// --hw-config does) to both engines.
//
// Evaluation data, which POT took from Accuracy Checker, is given with
// "eval_data_source" (a path) or "eval_dataset" (an inline descriptor).
//
// Relative paths are resolved against the configuration file's folder,
// or against the working folder when they exist only there (as POT did).
//
// Load reports every problem of a file at once, each with its key path
// and, for an unknown key, the nearest valid one. The parameters of the
// algorithms are checked later against the schema each algorithm plugin
// publishes.
package config
