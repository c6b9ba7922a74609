"""Writes the element type ONNX's shape inference gives every tensor of a model, as JSON."""
import json, sys
import onnx
from onnx import shape_inference
m = onnx.load(sys.argv[1])
del m.graph.value_info[:]
m = shape_inference.infer_shapes(m)
out = {}
for v in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
    out[v.name] = v.type.tensor_type.elem_type
for t in m.graph.initializer:
    out[t.name] = t.data_type
for n in m.graph.node:
    if n.op_type == 'Constant':
        out[n.output[0]] = n.attribute[0].t.data_type
missing = [o for n in m.graph.node for o in n.output if o and o not in out]
assert not missing, missing
json.dump(dict(sorted(out.items())), open(sys.argv[2], 'w'), indent=0)
print(len(out), 'tensors')
