"""Export the example models at old ONNX opsets: the twins of examples/models/*.onnx (which are opset 13).

Usage: /usr/bin/python3 export_opsets.py ZOO_DIR MODELS_DIR [OUT_DIR]

ZOO_DIR holds zoo.py (the model definitions and training recipe of examples/models), MODELS_DIR the trained
weights NAME.pt. Needs PyTorch 1.13 (Debian's python3-torch). Writes, into OUT_DIR (default: this folder):

- NAME.opsetV.onnx for NAME in lenet_mnist, resnet_fmnist, mobilenet_fmnist and V in 9 and 11, exported exactly
  as zoo.py exports the opset-13 files: one dummy image, input 'input' and output 'logits' with a dynamic batch
  dimension 'N', constant folding on;
- lenet_mnist_ops.opsetV.onnx for V in 9, 11 and 13: LeNet (same weights) behind operators whose ONNX definitions
  changed between opsets 9 and 13 (Upsample/Resize, Pad, Slice, Squeeze, Unsqueeze, Clip, Softmax), arranged so
  that the function is LeNet's, its top-1 unchanged.
"""
import os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

zoo_dir, models_dir = sys.argv[1], sys.argv[2]
out_dir = sys.argv[3] if len(sys.argv) > 3 else os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, zoo_dir)
import zoo  # noqa: E402


class Ops(nn.Module):
    """A network behind nearest upsampling undone by max pooling, padding undone by slicing, an unsqueeze undone
    by a squeeze, a clamp wider than the data and a softmax (same argmax)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode='nearest')
        x = F.max_pool2d(x, 2)
        x = F.pad(x, (2, 2, 1, 1), value=-3.0)[:, :, 1:-1, 2:-2]
        x = x.unsqueeze(1).squeeze(1)
        x = torch.clamp(x, -100.0, 100.0)
        return F.softmax(self.net(x), dim=1)


def load(name):
    ctor, _, _, _ = zoo.MODELS[name]
    model = ctor()
    model.load_state_dict(torch.load(os.path.join(models_dir, name + '.pt')))
    return model.eval()


def export(model, path, opset):
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=opset, input_names=['input'],
                      output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}},
                      do_constant_folding=True)
    print('wrote', path)


torch.manual_seed(0)
for name in ['lenet_mnist', 'resnet_fmnist', 'mobilenet_fmnist']:
    for opset in (9, 11):
        export(load(name), os.path.join(out_dir, f'{name}.opset{opset}.onnx'), opset)
ops = Ops(load('lenet_mnist')).eval()
for opset in (9, 11, 13):
    export(ops, os.path.join(out_dir, f'lenet_mnist_ops.opset{opset}.onnx'), opset)
