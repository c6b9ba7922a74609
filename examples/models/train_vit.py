"""vit_fmnist: a small Vision Transformer trained on Fashion-MNIST, exported to ONNX.

Usage (Debian's python3 with python3-torch 1.13 and python3-onnx):

    /usr/bin/python3 examples/models/train_vit.py train TRAIN_DIR [OUT_DIR]
    /usr/bin/python3 examples/models/train_vit.py ptq [OUT_DIR]

TRAIN_DIR holds Fashion-MNIST's four IDX files (Debian's dataset-fashion-mnist package:
/usr/share/datasets/fashion-mnist). OUT_DIR defaults to this folder.

`train` writes vit_fmnist.pt (the weights), vit_fmnist.onnx (opset 13, dynamic batch axis) and
prints the float top-1 on the 10000 test images. `ptq` loads vit_fmnist.pt and measures PyTorch's own
post-training static quantization (the figure examples/README.md records); see ptq() for how.

The network: 4x4 patches (a stride-4 convolution, 49 tokens) of width 64, a class token and
learned position embeddings, three pre-norm nn.TransformerEncoderLayers (batch_first, 4 heads,
feed-forward 128, GELU, LayerNorm, no dropout), a final LayerNorm and a linear head on the class
token: 105 546 parameters. At opset 13 PyTorch exports LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div,
GELU through Erf, and the attention with Shape/Gather/Concat/Reshape subgraphs on int64 shapes,
sequence-first input projections ([tokens, N, 64]) and MatMuls of two activations (Q·Kᵀ,
softmax·V).

Training: 15 epochs of the 60000 training images, batch 128, AdamW (lr 2e-3 one-cycle, weight
decay 0.05 on the matrices), label smoothing 0.1, random flips and shifts of up to 2 pixels,
seed 0. The test set is only printed after each epoch; nothing is selected on it. The shipped
model: float top-1 0.8813 on the 10000 test images, 28 minutes on two shared cores, with
OpenBLAS (Debian's libopenblas0-pthread, LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread):
Debian's PyTorch otherwise calls the reference BLAS, about four times slower (and rounding
slightly differently, so the weights would not be these bit for bit).
"""
import gzip, json, os, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.2860, 0.3530
DATA = os.path.join(HERE, '..', 'data', 'fmnist')


def load_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    nd = int.from_bytes(data[0:4], 'big') & 0xff
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(d, prefix):
    """Images (N, 1, 28, 28) normalized as examples/data/fmnist-*.json do, and labels."""
    x = load_idx(os.path.join(d, prefix + '-images-idx3-ubyte.gz')).astype(np.float32) / 255.0
    y = load_idx(os.path.join(d, prefix + '-labels-idx1-ubyte.gz')).astype(np.int64)
    return torch.from_numpy(((x - MEAN) / STD)[:, None]), torch.from_numpy(y)


class ViT(nn.Module):
    def __init__(self, dim=64, depth=3, heads=4, mlp=128, patch=4, classes=10):
        super().__init__()
        n = (28 // patch) ** 2
        self.patch = nn.Conv2d(1, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation='gelu',
                                           batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)  # [N, 49, dim]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.enc(x)
        return self.head(self.norm(x[:, 0]))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return sum((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
                   for i in range(0, len(x), 500)) / len(x)


def augment(x):
    """Random horizontal flips and shifts of up to 2 pixels (the border filled with background)."""
    flip = torch.rand(len(x)) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    bg = -MEAN / STD
    p = F.pad(x, (2, 2, 2, 2), value=bg)
    dx, dy = np.random.randint(0, 5, 2)
    return p[:, :, dy:dy + 28, dx:dx + 28]


def train(train_dir, out, epochs=15, lr=2e-3, batch=128):
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    xtr, ytr = load(train_dir, 'train')
    xte, yte = load(DATA, 't10k')
    model = ViT()
    decay = [p for n, p in model.named_parameters() if p.dim() > 1 and n not in ('cls', 'pos')]
    rest = [p for n, p in model.named_parameters() if not (p.dim() > 1 and n not in ('cls', 'pos'))]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': rest, 'weight_decay': 0}], lr=lr)
    steps = epochs * (len(xtr) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr) - batch + 1, batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(augment(xtr[idx])), ytr[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        print(f'epoch {ep} loss {loss.item():.3f} test top-1 {evaluate(model, xte, yte):.4f} '
              f't {time.time() - t0:.0f}s', flush=True)
    model.eval()
    acc = evaluate(model, xte, yte)
    torch.save(model.state_dict(), os.path.join(out, 'vit_fmnist.pt'))
    export(model, os.path.join(out, 'vit_fmnist.onnx'), xte[:2])
    print(json.dumps({'model': 'vit_fmnist', 'float_top1': acc, 'epochs': epochs,
                      'train_seconds': round(time.time() - t0)}))


def export(model, path, example):
    # In eval mode without gradients nn.TransformerEncoderLayer takes its fused fast path
    # (aten::_transformer_encoder_layer_fwd), which has no ONNX export: trace with gradients
    # enabled so the layers run (and export) their plain operators.
    model.eval()
    with torch.enable_grad():
        torch.onnx.export(model, example, path, opset_version=13, input_names=['input'],
                          output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}},
                          do_constant_folding=True)


class SelfAttention(nn.Module):
    """Sequence-first self-attention returning its output only: the leaf that FX's custom-module
    flow swaps (nn.MultiheadAttention returns a tuple, which FX's observers cannot take)."""

    def __init__(self, mha):
        super().__init__()
        self.mha = mha

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class ObservedSelfAttention(SelfAttention):
    @classmethod
    def from_float(cls, m):
        import torch.ao.nn.quantizable as nnqa
        m.mha.qconfig = m.qconfig
        o = cls(nnqa.MultiheadAttention.from_float(m.mha))
        o.qconfig = m.qconfig
        return o


class QuantizedSelfAttention(SelfAttention):
    @classmethod
    def from_observed(cls, m):
        import torch.ao.nn.quantized as nnq
        return cls(nnq.MultiheadAttention.from_observed(m.mha))


class Block(nn.Module):
    """One pre-norm encoder layer written out, for FX: nn.TransformerEncoderLayer's forward
    branches on its inputs (its fused fast path), which symbolic tracing cannot follow. Same
    modules, same weights; the attention is sequence-first (the quantizable MultiheadAttention's
    from_float ignores batch_first)."""

    def __init__(self, layer):
        super().__init__()
        a = layer.self_attn
        mha = nn.MultiheadAttention(a.embed_dim, a.num_heads, dropout=0.0)
        mha.load_state_dict(a.state_dict())
        self.norm1, self.norm2 = layer.norm1, layer.norm2
        self.self_attn = SelfAttention(mha)
        self.linear1, self.linear2 = layer.linear1, layer.linear2
        self.gelu = nn.GELU()

    def forward(self, x):
        x = x + self.self_attn(self.norm1(x).transpose(0, 1)).transpose(0, 1)
        return x + self.linear2(self.gelu(self.linear1(self.norm2(x))))


class Traceable(nn.Module):
    """ViT with its encoder layers written out (Block), for FX graph mode quantization."""

    def __init__(self, vit):
        super().__init__()
        self.patch, self.cls, self.pos = vit.patch, vit.cls, vit.pos
        self.blocks = nn.Sequential(*[Block(l) for l in vit.enc.layers])
        self.norm, self.head = vit.norm, vit.head

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x)[:, 0]))


def ptq(out, ncal=300, backend='onednn'):
    """PyTorch 1.13's FX graph mode post-training static quantization, as bench/torch_ptq.py
    does for the CNNs: prepare_fx with the default qconfig mapping, 300 calibration samples (the
    first of examples/data/fmnist calib-1000), convert_fx. This build of PyTorch has the onednn
    and qnnpack engines, not fbgemm/x86; onednn is what the CNNs' figures used.

    FX cannot trace nn.TransformerEncoderLayer, so the network is quantized through Traceable:
    the same modules and weights with the layers written out. The attention goes through
    PyTorch's custom-module flow: observed as torch.ao.nn.quantizable.MultiheadAttention and
    converted to torch.ao.nn.quantized.MultiheadAttention, which runs the Q, K, V and output
    projections in int8 and, as PyTorch implements it, Q·Kᵀ, softmax and softmax·V in float
    between them. Everything else (patch convolution, LayerNorms, feed-forward Linears, GELU,
    residual adds, head) is what prepare_fx quantizes by default. Prints one JSON line with
    float and int8 top-1 on the 10000 test images."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.fx.custom_config import ConvertCustomConfig, PrepareCustomConfig
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.set_num_threads(1)
    torch.manual_seed(0)
    calib, _ = load(DATA, 'calib-1000')
    calib = calib[:ncal]
    xte, yte = load(DATA, 't10k')
    vit = ViT()
    vit.load_state_dict(torch.load(os.path.join(out, 'vit_fmnist.pt')))
    vit.eval()
    model = Traceable(vit).eval()
    with torch.no_grad():
        diff = (model(xte[:256]) - vit(xte[:256])).abs().max().item()
    assert diff < 1e-4, f'the traceable twin differs from the model by {diff}'
    torch.backends.quantized.engine = backend
    t0 = time.time()
    prepare_cfg = PrepareCustomConfig().set_float_to_observed_mapping(SelfAttention, ObservedSelfAttention)
    convert_cfg = ConvertCustomConfig().set_observed_to_quantized_mapping(ObservedSelfAttention, QuantizedSelfAttention)
    prepared = prepare_fx(model, get_default_qconfig_mapping(backend), example_inputs=(xte[:1],),
                          prepare_custom_config=prepare_cfg)
    with torch.no_grad():
        for i in range(0, ncal, 32):
            prepared(calib[i:i + 32])
    qmodel = convert_fx(prepared, convert_custom_config=convert_cfg)
    tq = time.time() - t0
    if os.environ.get('SHOW_CODE'):
        print(qmodel)
    print(json.dumps({'model': 'vit_fmnist', 'backend': backend, 'n_calib': ncal, 'float_top1': evaluate(vit, xte, yte),
                      'int8_top1': evaluate(qmodel, xte, yte), 'quantize_seconds': round(tq, 3)}))


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'train':
        train(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else HERE)
    elif len(sys.argv) >= 2 and sys.argv[1] == 'ptq':
        ptq(sys.argv[2] if len(sys.argv) > 2 else HERE)
    else:
        sys.exit(__doc__)
