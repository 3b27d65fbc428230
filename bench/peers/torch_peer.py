# Bench peer: PyTorch (Debian's python3-torch, CPU) training the same model as nnc, built from the checked IR
# that bench/run.ts writes as JSON. Run with /usr/bin/python3, OPENBLAS_NUM_THREADS=1 and 2 torch threads
# (bench/run.ts sets both): two OpenBLAS threads on top of two torch threads oversubscribe the 2 cores.
# Three epochs over a fixed subset, shuffled, batches gathered from one tensor; the best of the last two is timed.
# Usage: python3 torch_peer.py IR.json BATCH SAMPLES DATA.f32 LABELS.i32
import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(0)


def build(model):
    """The torch twin of an IR model (a graph: each node names its inputs). Data is NHWC as nnc's; conv layers
    run on a permuted NCHW view. 'same' padding with stride 2 pads symmetrically here (TensorFlow pads the extra
    row at the bottom): same shapes and work, which is what the bench measures."""
    return Graph(model)


def node_module(l, shape, out):
    op = l["op"]
    act = l.get("activation", "linear")
    mods = []
    if op == "flatten":
        mods.append(nn.Flatten())
    elif op == "dense":
        mods.append(nn.Linear(int(np.prod(shape)), l["units"], bias=l["useBias"]))
    elif op == "conv2d":
        k, s = l["kernelSize"], l["strides"]
        pad = ((k[0] - 1) // 2, (k[1] - 1) // 2) if l["padding"] == "same" else 0
        mods.append(nn.Conv2d(shape[-1], l["filters"], k, s, padding=pad, bias=l["useBias"]))
    elif op == "batchnorm":
        # Keras momentum 0.99 (weight kept) is PyTorch's 0.01 (weight of the batch).
        cls = nn.BatchNorm2d if len(out) == 3 else nn.BatchNorm1d
        mods.append(cls(out[-1], eps=l["epsilon"], momentum=1 - l["momentum"]))
    elif op == "activation":
        act = l["activation"]
    elif op == "dropout":
        mods.append(nn.Dropout(l["rate"]))
    elif op == "maxpool":
        mods.append(nn.MaxPool2d(l["poolSize"], l["strides"]))
    elif op == "globalavgpool":
        mods.append(nn.AdaptiveAvgPool2d(1))
        mods.append(nn.Flatten())
    elif op in ("add", "concat", "input"):
        pass
    else:
        raise SystemExit(f"bench: no torch twin for {op}")
    # The output softmax is folded into the loss (CrossEntropyLoss takes logits), as nnc does.
    if op in ("dense", "conv2d", "activation") and act == "relu":
        mods.append(nn.ReLU())
    return nn.Sequential(*mods)


class Graph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.nodes = model["layers"]
        shapes = {}
        self.mods = nn.ModuleList()
        for l in self.nodes:
            shape = l["shape"] if l["op"] == "input" else shapes[l["inputs"][0]]
            out = l.get("outputShape", [None] + shape)[1:]
            self.mods.append(node_module(l, shape, out))
            shapes[l["name"]] = out
        self.image = len(self.nodes[0]["shape"]) == 3

    def forward(self, x):
        values = {}
        for l, mod in zip(self.nodes, self.mods):
            if l["op"] == "input":
                h = x.permute(0, 3, 1, 2) if self.image else x
            elif l["op"] == "add":
                h = sum(values[i] for i in l["inputs"])
            elif l["op"] == "concat":
                # NCHW: the channel axis -1 of NHWC is axis 1 here.
                axis = 1 if self.image and l["axis"] in (-1, 3) else l["axis"]
                h = torch.cat([values[i] for i in l["inputs"]], axis)
            else:
                h = mod(values[l["inputs"][0]])
            values[l["name"]] = h
        return h


def main():
    ir_path, batch, samples, data_path, labels_path = sys.argv[1:6]
    batch, samples = int(batch), int(samples)
    model_ir = json.load(open(ir_path))
    sample_shape = model_ir["layers"][0]["shape"]
    x = torch.from_numpy(np.fromfile(data_path, dtype=np.float32)).reshape(-1, *sample_shape)
    y = torch.from_numpy(np.fromfile(labels_path, dtype=np.int32).astype(np.int64))
    n = min(samples, x.shape[0])
    x, y = x[:n], y[:n]
    net = build(model_ir)
    opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    seconds = float("inf")
    for epoch in range(3):
        began = time.perf_counter()
        order = torch.randperm(n)
        correct = 0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            out = net(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == yb).sum().item()
        if epoch > 0:
            seconds = min(seconds, time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"samplesPerSecond": n / seconds, "peakRssMB": peak, "extra": {"torch": torch.__version__}}))


main()
