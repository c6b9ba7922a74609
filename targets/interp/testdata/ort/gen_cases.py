"""Builds small ONNX models of the recurrent and control-flow operators
with random inputs, runs them with ONNX Runtime 1.30 (ort_outputs.mjs)
and stores each as an ONNX backend-test folder (model.onnx,
test_data_set_0/input_*.pb and output_*.pb) under cases/.

Run with Debian's python3 (onnx, numpy) and NODE_PATH pointing at an
onnxruntime-node 1.30 install:
  NODE_PATH=$(/work/shared/bench/setup.sh)/node_modules /usr/bin/python3 gen_cases.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")
rng = np.random.default_rng(20240611)

DT = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("int64"): TensorProto.INT64,
      np.dtype("int32"): TensorProto.INT32, np.dtype("bool"): TensorProto.BOOL}


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def vi(name, arr):
    return helper.make_tensor_value_info(name, DT[arr.dtype], list(arr.shape))


def make_model(name, graph_nodes, inputs, inits, outputs, opset):
    g = helper.make_graph(
        graph_nodes, name,
        [vi(n, a) for n, a in inputs.items()],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="pot-gen")
    m.ir_version = 7
    return m


def ort_run(m, inputs):
    """Runs model m on inputs with ONNX Runtime; returns the outputs in
    order."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        onnx.save(m, path)
        npz = os.path.join(tmp, "in.npz")
        np.savez(npz, **inputs)
        subprocess.run(["node", os.path.join(HERE, "ort_outputs.mjs"), path, npz, tmp], check=True)
        meta = json.load(open(os.path.join(tmp, "outputs.json")))
        types = {"float32": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_}
        return [np.fromfile(os.path.join(tmp, o["name"] + ".bin"), dtype=types[o["type"]]).reshape(o["dims"]) for o in meta]


def save(name, graph_nodes, inputs, inits, outputs, opset, reference=None):
    """Writes a backend-test folder. inputs: dict name -> array (fed);
    inits: dict name -> array (initializers); outputs: names. The
    expected outputs are ONNX Runtime's on this model, or what
    reference() returns."""
    m = make_model(name, graph_nodes, inputs, inits, outputs, opset)
    expected = reference() if reference else ort_run(m, inputs)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(inputs.items()):
        t = numpy_helper.from_array(a, n)
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    for i, (o, a) in enumerate(zip(outputs, expected)):
        t = numpy_helper.from_array(a, o)
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    print("wrote", name)


def rnn_case(name, op, I, H, seq, batch, direction="forward", opset=14, layout=0, attrs=None,
             bias=True, seq_lens=None, init_h=False, init_c=False, peep=False, const_weights=True,
             outputs=("Y", "Y_h", "Y_c")):
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    D = 2 if direction == "bidirectional" else 1
    x = rand(seq, batch, I) if layout == 0 else rand(batch, seq, I)
    W, R = rand(D, G * H, I, scale=0.5), rand(D, G * H, H, scale=0.5)
    feeds, inits = {"X": x}, {}
    (inits if const_weights else feeds).update({"W": W, "R": R})
    ins = ["X", "W", "R"]
    if bias:
        inits["B"] = rand(D, 2 * G * H, scale=0.3)
    ins.append("B" if bias else "")
    if seq_lens is not None:
        feeds["sequence_lens"] = np.array(seq_lens, dtype=np.int32)
    ins.append("sequence_lens" if seq_lens is not None else "")
    sshape = (D, batch, H) if layout == 0 else (batch, D, H)
    if init_h:
        feeds["initial_h"] = rand(*sshape)
    ins.append("initial_h" if init_h else "")
    if op == "LSTM":
        if init_c:
            feeds["initial_c"] = rand(*sshape)
        ins.append("initial_c" if init_c else "")
        if peep:
            inits["P"] = rand(D, 3 * H, scale=0.5)
        ins.append("P" if peep else "")
    while ins and ins[-1] == "":
        ins.pop()
    nouts = 3 if op == "LSTM" else 2
    outs = [o if o in outputs else "" for o in ("Y", "Y_h", "Y_c")[:nouts]]
    while outs and outs[-1] == "":
        outs.pop()
    a = dict(hidden_size=H, direction=direction)
    if opset >= 14:
        a["layout"] = layout
    a.update(attrs or {})
    node = helper.make_node(op, ins, outs, name=name, **a)
    named = [o for o in outs if o]
    reference = None
    if layout == 1:
        # ONNX Runtime implements layout 0 only: the reference is the
        # layout-0 layer on transposed inputs, its outputs transposed back.
        def reference():
            a0 = dict(a, layout=0)
            n0 = helper.make_node(op, ins, outs, name=name, **a0)
            f0 = {k: (v.transpose(1, 0, 2) if k in ("X", "initial_h", "initial_c") else v) for k, v in feeds.items()}
            m0 = make_model(name, [n0], f0, inits, named, opset)
            res = ort_run(m0, f0)
            return [r.transpose(2, 0, 1, 3) if o == "Y" else r.transpose(1, 0, 2) for o, r in zip(named, res)]
    save(name, [node], feeds, inits, named, opset, reference)


def g(name, nodes, inputs, outputs, inits=()):
    """A subgraph: inputs and outputs are (name, elem type, shape)."""
    return helper.make_graph(nodes, name,
                             [helper.make_tensor_value_info(*i) for i in inputs],
                             [helper.make_tensor_value_info(*o) for o in outputs], list(inits))


F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def control_cases():
    # If in a Loop body in an If: the innermost branch reads a value of the
    # main graph (a), one of the outer If's branch (b2) and the Loop's
    # carried value; the main graph computes a after the If in node order.
    inner_then = g("inner_then", [helper.make_node("Add", ["acc_in", "a"], ["it"]),
                                   helper.make_node("Mul", ["it", "b2"], ["inner_t"])], [], [("inner_t", F, None)])
    inner_else = g("inner_else", [helper.make_node("Sub", ["acc_in", "b2"], ["inner_e"])], [], [("inner_e", F, None)])
    body = g("body", [
        helper.make_node("Cast", ["i"], ["i_f"], to=F),
        helper.make_node("ReduceSum", ["acc_in"], ["tot"], keepdims=0),
        helper.make_node("Less", ["tot", "limit"], ["small"]),
        helper.make_node("If", ["small"], ["acc_next"], then_branch=inner_then, else_branch=inner_else),
        helper.make_node("Add", ["acc_next", "i_f"], ["acc_out"]),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("ReduceMax", ["acc_out"], ["scan_el"], keepdims=0),
    ], [("i", I64, []), ("cond_in", B, []), ("acc_in", F, [3])], [("cond_out", B, []), ("acc_out", F, [3]), ("scan_el", F, [])])
    outer_then = g("outer_then", [
        helper.make_node("Mul", ["x", "x"], ["b2"]),
        helper.make_node("Loop", ["trips", "", "x"], ["acc", "maxes"], body=body),
    ], [], [("acc", F, None), ("maxes", F, None)])
    outer_else = g("outer_else", [helper.make_node("Neg", ["x"], ["neg"]), helper.make_node("Identity", ["x"], ["x2"])], [], [("neg", F, None), ("x2", F, None)])
    nodes = [
        helper.make_node("If", ["flag"], ["y", "z"], then_branch=outer_then, else_branch=outer_else),
        helper.make_node("Relu", ["x"], ["a"]),
    ]
    x = rand(3)
    for flag in (True, False):
        save(f"cf_nested_if_loop_if_captures_{str(flag).lower()}", nodes,
             {"x": x, "flag": np.array(flag), "trips": np.array(4, dtype=np.int64), "limit": np.array(6.0, dtype=np.float32)},
             {}, ["y", "z"], 13)

    # Loop forms: while (cond only), for (M only), both with an early exit,
    # and zero iterations.
    body = g("body", [
        helper.make_node("Add", ["v_in", "step"], ["v_out"]),
        helper.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
        helper.make_node("Less", ["s", "bound"], ["cond_out"]),
        helper.make_node("Cast", ["i"], ["i_f"], to=F),
        helper.make_node("Mul", ["v_out", "i_f"], ["scan"]),
    ], [("i", I64, []), ("cond_in", B, []), ("v_in", F, [2, 2])], [("cond_out", B, []), ("v_out", F, [2, 2]), ("scan", F, [2, 2])])
    v0 = rand(2, 2)
    step = np.abs(rand(2, 2)) + 0.5
    for name, m, cond in [("while", None, True), ("for", 5, None), ("for_while_exit", 50, True), ("zero_trips", 0, True)]:
        ins = ["M" if m is not None else "", "cond" if cond is not None else "", "v"]
        feeds = {"v": v0, "step": step, "bound": np.array(12.0, dtype=np.float32)}
        if m is not None:
            feeds["M"] = np.array(m, dtype=np.int64)
        if cond is not None:
            feeds["cond"] = np.array(cond)
        save(f"cf_loop_{name}", [helper.make_node("Loop", ins, ["v_final", "scans"], body=body)], feeds, {}, ["v_final", "scans"], 16)

    # Scan-9 and later: two scan inputs (axis 1 forward, axis 0 reversed),
    # two scan outputs (axis 0 prepended, axis 2), a state.
    body = g("body", [
        helper.make_node("Add", ["st_in", "a_el"], ["t"]),
        helper.make_node("Mul", ["t", "b_el"], ["st_out"]),
        helper.make_node("Identity", ["st_out"], ["o1"]),
        helper.make_node("Unsqueeze", ["a_el", "ax"], ["o2"]),
    ], [("st_in", F, [2]), ("a_el", F, [2]), ("b_el", F, [2])], [("st_out", F, [2]), ("o1", F, [2]), ("o2", F, [1, 2])],
        [numpy_helper.from_array(np.array([0], dtype=np.int64), "ax")])
    save("cf_scan16_axes_directions", [helper.make_node(
        "Scan", ["st", "a", "b"], ["st_final", "y1", "y2"], body=body, num_scan_inputs=2,
        scan_input_axes=[1, 0], scan_input_directions=[0, 1], scan_output_axes=[0, 2], scan_output_directions=[1, 0])],
        {"st": rand(2), "a": rand(2, 4), "b": rand(4, 2)}, {}, ["st_final", "y1", "y2"], 16)
    # Scan-11 with negative axes.
    body11 = g("body", [
        helper.make_node("Add", ["st_in", "a_el"], ["t"]),
        helper.make_node("Mul", ["t", "b_el"], ["st_out"]),
        helper.make_node("Identity", ["st_out"], ["o1"]),
        helper.make_node("Sub", ["a_el", "b_el"], ["o2"]),
    ], [("st_in", F, [2]), ("a_el", F, [2]), ("b_el", F, [2])], [("st_out", F, [2]), ("o1", F, [2]), ("o2", F, [2])])
    save("cf_scan11_negative_axes", [helper.make_node(
        "Scan", ["st", "a", "b"], ["st_final", "y1", "y2"], body=body11, num_scan_inputs=2,
        scan_input_axes=[-1, -2], scan_output_axes=[-1, -2])],
        {"st": rand(2), "a": rand(2, 3), "b": rand(3, 2)}, {}, ["st_final", "y1", "y2"], 11)
    # Scan-8: batch of 3, sequence lengths, a reversed input.
    body8 = g("body", [
        helper.make_node("Add", ["st_in", "a_el"], ["t"]),
        helper.make_node("Sub", ["t", "b_el"], ["st_out"]),
        helper.make_node("Mul", ["st_out", "a_el"], ["o1"]),
    ], [("st_in", F, [2]), ("a_el", F, [2]), ("b_el", F, [2])], [("st_out", F, [2]), ("o1", F, [2])])
    save("cf_scan8_batch_seqlens_directions", [helper.make_node(
        "Scan", ["lens", "st", "a", "b"], ["st_final", "y"], body=body8, num_scan_inputs=2, directions=[0, 1])],
        {"lens": np.array([4, 2, 3], dtype=np.int64), "st": rand(3, 2), "a": rand(3, 4, 2), "b": rand(3, 4, 2)},
        {}, ["st_final", "y"], 8)


def naming_cases():
    # Sibling branches define the same local names (t, u, and the loop
    # body's), with unnamed nodes; the Loop body in the then branch reads
    # its branch's t. pot renames the second definitions model-wide.
    body = g("body", [helper.make_node("Add", ["acc", "t"], ["acc_out"]),
                      helper.make_node("Identity", ["c"], ["c_out"])],
             [("i", I64, []), ("c", B, []), ("acc", F, [3])], [("c_out", B, []), ("acc_out", F, [3])])
    then = g("then", [helper.make_node("Mul", ["x", "x"], ["t"]),
                      helper.make_node("Loop", ["three", "", "x"], ["u"], body=body),
                      helper.make_node("Sub", ["u", "t"], ["then_out"])], [], [("then_out", F, None)],
             [numpy_helper.from_array(np.array(3, dtype=np.int64), "three")])
    body2 = g("body", [helper.make_node("Sub", ["acc", "t"], ["acc_out"]),
                       helper.make_node("Identity", ["c"], ["c_out"])],
              [("i", I64, []), ("c", B, []), ("acc", F, [3])], [("c_out", B, []), ("acc_out", F, [3])])
    els = g("else", [helper.make_node("Neg", ["x"], ["t"]),
                     helper.make_node("Loop", ["two", "", "x"], ["u"], body=body2),
                     helper.make_node("Add", ["u", "t"], ["else_out"])], [], [("else_out", F, None)],
            [numpy_helper.from_array(np.array(2, dtype=np.int64), "two")])
    x = rand(3)
    for flag in (True, False):
        save(f"cf_sibling_scopes_same_names_{str(flag).lower()}",
             [helper.make_node("If", ["flag"], ["y"], then_branch=then, else_branch=els)],
             {"x": x, "flag": np.array(flag)}, {}, ["y"], 13)


def main():
    os.makedirs(OUT, exist_ok=True)
    rnn_case("rnn_lstm_bidirectional_peepholes_seqlens", "LSTM", 3, 4, 5, 3, "bidirectional",
             seq_lens=[5, 2, 4], init_h=True, init_c=True, peep=True)
    rnn_case("rnn_lstm_reverse_layout1_clip_forget", "LSTM", 5, 3, 4, 2, "reverse", layout=1,
             attrs=dict(clip=0.8, input_forget=1, activations=["HardSigmoid", "Tanh", "Softsign"],
                        activation_alpha=[0.3], activation_beta=[0.4]),
             init_h=True, init_c=True, peep=True)
    rnn_case("rnn_lstm_opset7_weights_fed_yh_only", "LSTM", 4, 6, 3, 2, "forward", opset=7,
             const_weights=False, init_h=True, outputs=("Y_h",))
    rnn_case("rnn_gru_bidirectional_linear_before_reset", "GRU", 3, 5, 6, 3, "bidirectional",
             attrs=dict(linear_before_reset=1), seq_lens=[6, 1, 3], init_h=True)
    rnn_case("rnn_gru_reverse_layout1_leakyrelu", "GRU", 4, 3, 5, 2, "reverse", layout=1,
             attrs=dict(activations=["Sigmoid", "LeakyRelu"], activation_alpha=[0.2]), seq_lens=[3, 5])
    rnn_case("rnn_gru_forward_fed_weights", "GRU", 2, 4, 4, 2, "forward", const_weights=False,
             init_h=True)
    rnn_case("rnn_rnn_bidirectional_relu_scaledtanh", "RNN", 3, 4, 5, 2, "bidirectional",
             attrs=dict(activations=["Relu", "ScaledTanh"], activation_alpha=[0.7], activation_beta=[1.3], clip=2.5),
             seq_lens=[4, 5], init_h=True)
    rnn_case("rnn_rnn_elu_softplus_bidirectional", "RNN", 2, 3, 4, 2, "bidirectional",
             attrs=dict(activations=["Elu", "Softplus"], activation_alpha=[0.5]))
    rnn_case("rnn_rnn_affine_reverse", "RNN", 3, 3, 4, 1, "reverse",
             attrs=dict(activations=["Affine"], activation_alpha=[0.5], activation_beta=[0.1]))
    rnn_case("rnn_rnn_thresholdedrelu_layout1", "RNN", 3, 5, 3, 2, "forward", layout=1,
             attrs=dict(activations=["ThresholdedRelu"], activation_alpha=[0.2]), init_h=True)
    control_cases()
    naming_cases()


if __name__ == "__main__":
    main()
