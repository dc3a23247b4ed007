"""Make ``model_reference.json``: training-loss curves of linear classifiers trained by torch.optim, for the
parity test ``tests/core/test_models_torch.py``.

How it was made::

    python3 -m venv /tmp/w13torch
    /tmp/w13torch/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl numpy scikit-learn
    /tmp/w13torch/bin/python tests/core/data/make_model_reference.py

with torch 2.13.0+cpu on CPython 3.11 (versions stored in the JSON). torch is NOT a dependency of gdstudio.

Each case: scikit-learn's digits, all 1,797 samples (no validation split), features ``data / 16``, weights and
biases starting at zero, full batch, float64. The loss is written with torch's own operations and differentiated
by autograd (independent of gdstudio's hand-written gradients):

- softmax: ``cross_entropy(X @ W + b, y) + reg * (W ** 2).sum()``
- svm: ``mean_i Σ_{j≠y_i} relu(s_ij − s_iy_i + 1) + reg * (W ** 2).sum()`` (CS231n's multiclass hinge)

One adjustment, for the SVM only: gradient entries with ``|g| < 1e-15`` are set to exactly 0 before the step.
The hinge gradient of a weight is a sum of multiples of ``1 / (16 n)`` and is exactly 0 for pixels that no
active margin sees; torch's summation order leaves a residue there (2.7e-20 for ``W[8, 5]`` at step 0) and Adam,
which divides each coordinate by its own gradient scale, turns that residue into a full step of ±lr within five
steps. gdstudio computes those entries as exactly 0, as exact arithmetic does; the snap makes torch agree.
No true gradient entry of these runs is within orders of magnitude of 1e-15.

``loss[k]`` is the training loss at the parameters after ``k`` optimizer steps (``k = 0..STEPS``).
Floats are written with ``repr`` precision (exact round trip).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

STEPS = 30
REG = 1e-3
OUT = Path(__file__).with_name("model_reference.json")

# (gdstudio optimizer, its hyperparameters, torch class, torch keyword arguments)
OPTIMIZERS = [
    ("gd", {"lr": 0.5}, "SGD", {"lr": 0.5}),
    ("momentum", {"lr": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("adam", {"lr": 0.01}, "Adam", {"lr": 0.01}),
]


def loss_fn(model, X, y, W, b):
    s = X @ W + b
    if model == "softmax":
        data = torch.nn.functional.cross_entropy(s, y)
    else:
        sy = s.gather(1, y[:, None])
        margins = torch.relu(s - sy + 1.0)
        mask = torch.ones_like(s)
        mask[torch.arange(len(y)), y] = 0.0
        data = (margins * mask).sum(dim=1).mean()
    return data + REG * (W ** 2).sum()


def curve(model, cls_name, kwargs, X, y):
    W = torch.zeros(X.shape[1], 10, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, cls_name)([W, b], foreach=False, **kwargs)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model, X, y, W, b)
        loss.backward()
        if model == "svm":
            for p in (W, b):
                p.grad[p.grad.abs() < 1e-15] = 0.0
        losses.append(loss.item())
        opt.step()
    with torch.no_grad():
        losses.append(loss_fn(model, X, y, W, b).item())
    return losses


def main():
    torch.set_default_dtype(torch.float64)
    d = load_digits()
    X = torch.tensor(np.asarray(d.data, dtype=np.float64) / 16.0)
    y = torch.tensor(np.asarray(d.target, dtype=np.int64))
    cases = []
    for model in ("softmax", "svm"):
        for name, hp, cls_name, kwargs in OPTIMIZERS:
            cases.append({"model": model, "optimizer": name, "hyperparams": hp, "reg": REG,
                          "torch": f"torch.optim.{cls_name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
                          "loss": curve(model, cls_name, kwargs, X, y)})
    data = {"torch_version": torch.__version__, "python": platform.python_version(), "steps": STEPS,
            "dataset": "digits (scikit-learn), data / 16, all samples", "cases": cases}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
