"""Make ``torch_reference.json``: trajectories of torch.optim optimizers, for the parity tests.

How it was made::

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl numpy
    /tmp/torchvenv/bin/python tests/core/data/make_torch_reference.py

with torch 2.13.0+cpu on CPython 3.11 (the versions are also stored in the JSON). torch is NOT a
dependency of gdstudio; it is needed only to regenerate this file.

Each case runs one optimizer (``foreach=False``: torch's single-tensor code path, which
``gdstudio.core.optimizers`` mirrors) in float64 for ``STEPS`` steps from a start point on a 2-D
test function, with the gradient set by hand from the same formula ``tests/core/test_optimizers_torch.py``
uses (so only the optimizer's arithmetic is compared). Rows of ``x`` are the points after 0..STEPS
steps. Floats are written with ``repr`` precision (exact round trip).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

STEPS = 50
OUT = Path(__file__).with_name("torch_reference.json")


def rosenbrock_grad(x, y):
    """∇ of (1 − x)² + 100(y − x²)²."""
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def quadratic_grad(x, y):
    """∇ of x² + 3xy + 5y² (Hessian [[2, 3], [3, 10]])."""
    return 2 * x + 3 * y, 3 * x + 10 * y


OBJECTIVES = {
    "rosenbrock": (rosenbrock_grad, (-1.5, 2.0)),
    "quadratic": (quadratic_grad, (3.0, -2.0)),
}

# (gdstudio name, gdstudio hyperparameters, torch class, torch keyword arguments)
CASES = [
    ("gd", {"lr": 1e-3}, "SGD", {"lr": 1e-3}),
    ("momentum", {"lr": 1e-3, "momentum": 0.9}, "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("momentum", {"lr": 1e-3, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1},
     "SGD", {"lr": 1e-3, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("nesterov", {"lr": 1e-3, "momentum": 0.9}, "SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("nesterov", {"lr": 5e-4, "momentum": 0.7, "weight_decay": 0.05},
     "SGD", {"lr": 5e-4, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {"lr": 0.1}, "Adagrad", {"lr": 0.1}),
    ("adagrad", {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6},
     "Adagrad", {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("rmsprop", {"lr": 1e-2}, "RMSprop", {"lr": 1e-2}),
    ("rmsprop", {"lr": 1e-2, "alpha": 0.9, "centered": True}, "RMSprop", {"lr": 1e-2, "alpha": 0.9, "centered": True}),
    ("rmsprop", {"lr": 5e-3, "alpha": 0.95, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
     "RMSprop", {"lr": 5e-3, "alpha": 0.95, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("adam", {"lr": 0.05}, "Adam", {"lr": 0.05}),
    ("adam", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "amsgrad": True, "weight_decay": 0.1},
     "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1}),
    ("adam", {"lr": 0.02, "beta1": 0.3, "beta2": 0.9, "eps": 1e-6},
     "Adam", {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-6}),
    ("adamw", {"lr": 0.05}, "AdamW", {"lr": 0.05}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.5, "amsgrad": True}, "AdamW",
     {"lr": 0.05, "weight_decay": 0.5, "amsgrad": True}),
]


def trajectory(cls_name, kwargs, grad, start):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, cls_name)([p], foreach=False, **kwargs)
    xs = [p.detach().tolist()]
    for _ in range(STEPS):
        with torch.no_grad():
            gx, gy = grad(p[0], p[1])
            p.grad = torch.stack([gx, gy])
        opt.step()
        xs.append(p.detach().tolist())
    return xs


def main():
    torch.set_default_dtype(torch.float64)
    cases = []
    for name, hp, cls_name, kwargs in CASES:
        for obj, (grad, start) in OBJECTIVES.items():
            cases.append({"optimizer": name, "hyperparams": hp, "objective": obj, "start": list(start),
                          "torch": f"torch.optim.{cls_name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
                          "x": trajectory(cls_name, kwargs, grad, start)})
    data = {"torch_version": torch.__version__, "python": platform.python_version(), "steps": STEPS,
            "cases": cases}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
