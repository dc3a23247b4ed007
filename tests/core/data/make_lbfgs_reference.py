"""Make ``lbfgs_reference.json``: what torch.optim.LBFGS does, for the parity tests of gdstudio's ``lbfgs``
(``tests/core/test_lbfgs.py``).

How it was made::

    python3 -m venv /tmp/w15_torchvenv
    /tmp/w15_torchvenv/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl numpy scikit-learn
    /tmp/w15_torchvenv/bin/python tests/core/data/make_lbfgs_reference.py

with torch 2.13.0+cpu on CPython 3.11 (versions stored in the JSON). torch is NOT a dependency of gdstudio.

``functions``: one start on a 2-D test function, float64, ``STEPS`` calls of ``optimizer.step(closure)``.
The closure computes the loss with torch's operations and sets the gradient by hand from the formulas
``tests/core/test_lbfgs.py`` uses (so only the optimizer's arithmetic is compared). ``x[k]`` is the point
after ``k`` steps; ``func_evals[k]`` torch's own count of closure calls after ``k`` steps
(``optimizer.state[p]["func_evals"]``).

``models``: digits (scikit-learn), all 1,797 samples, features ``data / 16``, zero initial weights, full batch,
float64, loss and autograd as in ``make_model_reference.py`` (softmax cross-entropy or CS231n's multiclass
hinge, plus ``REG · ‖W‖²``; the SVM's gradient entries below 1e-15 snapped to 0 as there). ``loss[k]`` is the
training loss after ``k`` steps.

Floats are written with ``repr`` precision (exact round trip).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import torch
from lbfgs_functions import booth, himmelblau, quadratic, rosenbrock  # this folder is on sys.path
from make_model_reference import REG
from make_model_reference import loss_fn as model_loss  # the same loss as the other model data

STEPS = 12
MODEL_STEPS = 8
OUT = Path(__file__).with_name("lbfgs_reference.json")

FUNCTIONS = {
    "rosenbrock": (rosenbrock, (-1.5, 2.0)),
    "quadratic": (quadratic, (3.0, -2.0)),
    "booth": (booth, (-4.0, 7.0)),
    "himmelblau": (himmelblau, (0.5, -1.5)),
}

# gdstudio hyperparameters; the torch keyword arguments are the same except line_search_fn "none" → None
# and max_eval 0 → None.
SETTINGS = [
    {},
    {"lr": 0.5, "max_iter": 5, "history_size": 3},
    {"max_iter": 7, "max_eval": 4, "tolerance_change": 1e-6},
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "max_iter": 4, "history_size": 2, "lr": 0.3},
]
MODEL_SETTINGS = [{}, {"line_search_fn": "strong_wolfe"}]


def torch_kwargs(hp):
    kw = dict(hp)
    if kw.get("line_search_fn", "none") == "none":
        kw["line_search_fn"] = None
    if not kw.get("max_eval"):
        kw["max_eval"] = None
    return kw


def function_case(fn, start, hp):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **torch_kwargs(hp))

    def closure():
        with torch.no_grad():
            f, (gx, gy) = fn(p[0], p[1])
            p.grad = torch.stack([gx, gy])
        return f

    xs, evals = [p.detach().tolist()], [0]
    for _ in range(STEPS):
        opt.step(closure)
        xs.append(p.detach().tolist())
        evals.append(opt.state[p]["func_evals"])
    return xs, evals


def model_case(model, hp, X, y):
    W = torch.zeros(X.shape[1], 10, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], **torch_kwargs(hp))

    def closure():
        opt.zero_grad()
        loss = model_loss(model, X, y, W, b)
        loss.backward()
        if model == "svm":
            for q in (W, b):
                q.grad[q.grad.abs() < 1e-15] = 0.0
        return loss

    losses, evals = [], [0]
    for _ in range(MODEL_STEPS):
        losses.append(opt.step(closure).item())
        evals.append(opt.state[W]["func_evals"])
    with torch.no_grad():
        losses.append(model_loss(model, X, y, W, b).item())
    return losses, evals


def main():
    from sklearn.datasets import load_digits

    torch.set_default_dtype(torch.float64)
    functions = []
    for hp in SETTINGS:
        for name, (fn, start) in FUNCTIONS.items():
            xs, evals = function_case(fn, start, hp)
            functions.append({"objective": name, "start": list(start), "hyperparams": hp,
                              "torch": f"torch.optim.LBFGS({', '.join(f'{k}={v!r}' for k, v in torch_kwargs(hp).items())})",
                              "x": xs, "func_evals": evals})
    d = load_digits()
    X = torch.tensor(np.asarray(d.data, dtype=np.float64) / 16.0)
    y = torch.tensor(np.asarray(d.target, dtype=np.int64))
    models = []
    for model in ("softmax", "svm"):
        for hp in MODEL_SETTINGS:
            losses, evals = model_case(model, hp, X, y)
            models.append({"model": model, "hyperparams": hp, "reg": REG,
                           "torch": f"torch.optim.LBFGS({', '.join(f'{k}={v!r}' for k, v in torch_kwargs(hp).items())})",
                           "loss": losses, "func_evals": evals})
    data = {"torch_version": torch.__version__, "python": platform.python_version(), "steps": STEPS,
            "model_steps": MODEL_STEPS, "dataset": "digits (scikit-learn), data / 16, all samples",
            "functions": functions, "models": models}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(functions)} function cases and {len(models)} model cases to {OUT}")


if __name__ == "__main__":
    main()
