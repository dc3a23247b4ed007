"""What the window shows on first launch: a run worth watching at once.

Rosenbrock's curved valley with momentum, from the far side of the valley: the path swings down the
wall, overshoots across the valley floor and rolls along it to the minimum at (1, 1) in about 1000 steps
(lr = 0.002, μ = 0.9; measured: f = 4e-10 after 1000 epochs). Keys that the current core does not know
are ignored, so this never breaks the window.
"""

from __future__ import annotations

from gdstudio.core.objectives import objective_names
from gdstudio.core.optimizers import OPTIMIZERS, optimizer_names
from gdstudio.core.runs import RunConfig

FIRST_OBJECTIVE = "rosenbrock"
FIRST_OPTIMIZER = "momentum"
FIRST_HYPERPARAMS = {"lr": 0.002, "momentum": 0.9}
FIRST_START = (-1.5, 2.0)
FIRST_EPOCHS = 1000
#: Animation speed on first launch, in steps per second.
FIRST_SPEED = 200


def first_config() -> RunConfig:
    objective = FIRST_OBJECTIVE if FIRST_OBJECTIVE in objective_names() else objective_names()[0]
    optimizer = FIRST_OPTIMIZER if FIRST_OPTIMIZER in optimizer_names() else optimizer_names()[0]
    known = {h.name for h in OPTIMIZERS[optimizer].hyperparams}
    hp = {k: v for k, v in FIRST_HYPERPARAMS.items() if k in known}
    return RunConfig.create(objective, optimizer, starts=[FIRST_START], epochs=FIRST_EPOCHS, hyperparams=hp)


def log_loss_axis(objective) -> bool:
    """Whether the loss chart starts on a log axis for ``objective``.

    A log axis shows convergence as a straight line, but only works for losses that stay positive: so it is
    chosen when the objective's known minima all have values ≥ 0 (booth, rosenbrock, ...), and not for
    saddles, negative-valued functions (Styblinski–Tang) or custom formulas, whose minimum is unknown.
    """
    minima = objective.minima()
    return bool(minima) and min(c.value for c in minima) >= 0
