#!/usr/bin/python3
"""Generates the golden tensors of tensor_test.go with ONNX's own helpers.

For each case, NAME.typed.pb holds a TensorProto with its values in the
typed field ONNX's make_tensor(raw=False) picks (float_data, int32_data,
int64_data, double_data, uint64_data), and NAME.raw.pb the same values as
numpy_helper.from_array writes them (raw_data). Run with python3-onnx:

    cd sdk/onnx/testdata/tensors && /usr/bin/python3 gen.py
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = [
    ("float", TensorProto.FLOAT, np.float32, [[1.5, -2.25, 0.0], [3.4e38, -1e-45, 7.0]]),
    ("double", TensorProto.DOUBLE, np.float64, [1.0 / 3.0, -2.5e300, 0.0, 5e-324]),
    ("int32", TensorProto.INT32, np.int32, [[2147483647, -2147483648], [0, -7]]),
    ("int8", TensorProto.INT8, np.int8, [-128, -1, 0, 1, 127]),
    ("uint8", TensorProto.UINT8, np.uint8, [0, 1, 128, 255]),
    ("int16", TensorProto.INT16, np.int16, [-32768, -2, 0, 300, 32767]),
    ("uint16", TensorProto.UINT16, np.uint16, [0, 1, 40000, 65535]),
    ("bool", TensorProto.BOOL, np.bool_, [True, False, False, True, True]),
    ("float16", TensorProto.FLOAT16, np.float16, [1.0, -2.0, 0.5, 65504.0, 6e-8, -0.0]),
    ("int64", TensorProto.INT64, np.int64, [[9223372036854775807, -9223372036854775808, 0], [1, -1, 42]]),
    ("uint32", TensorProto.UINT32, np.uint32, [0, 1, 4294967295]),
    ("uint64", TensorProto.UINT64, np.uint64, [0, 1, 18446744073709551615]),
    ("complex64", TensorProto.COMPLEX64, np.complex64, [1 + 2j, -3.5 - 0.25j]),
    ("scalar", TensorProto.FLOAT, np.float32, 2.75),
    ("empty", TensorProto.INT64, np.int64, np.zeros((0, 3))),
]

for name, dt, npt, values in CASES:
    arr = np.array(values, dtype=npt)
    flat = arr.flatten().tolist()
    typed = helper.make_tensor(name, dt, arr.shape, flat, raw=False)
    raw = numpy_helper.from_array(arr, name)
    assert not typed.HasField("raw_data") and raw.HasField("raw_data")
    with open(name + ".typed.pb", "wb") as f:
        f.write(typed.SerializeToString())
    with open(name + ".raw.pb", "wb") as f:
        f.write(raw.SerializeToString())
    print(name, dt, arr.shape, "typed fields:", [fd.name for fd, _ in typed.ListFields()])
