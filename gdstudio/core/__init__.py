"""The numerical core: objectives, gradients, optimizers, runs and export.

numpy (and SymPy) only: importing ``gdstudio.core`` never imports Qt (``tests/core/test_no_qt.py``).
The command line, the tests and the window all drive this same code.
"""

from gdstudio.core.gradients import GRADIENT_METHODS, Problem, gradient_check
from gdstudio.core.objectives import Objective, get_objective, objective_names
from gdstudio.core.optimizers import Optimizer, get_optimizer, optimizer_names
from gdstudio.core.runs import Recorder, Run, RunConfig, RunResult, Status, Step, Trajectory, run

__all__ = [
    "GRADIENT_METHODS", "Objective", "Optimizer", "Problem", "Recorder", "Run", "RunConfig", "RunResult", "Status", "Step",
    "Trajectory", "get_objective", "get_optimizer", "gradient_check", "objective_names", "optimizer_names", "run",
]
