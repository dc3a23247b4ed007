"""The command line: ``gdstudio`` opens the window; ``gdstudio run`` and ``gdstudio list`` work without a screen.

Examples::

    gdstudio run --objective booth --optimizer gd --lr 0.01 --epochs 150 --start 0 0 --out booth.csv
    gdstudio run --objective quadratic --param kappa=50 --optimizer momentum --set momentum=0.9 --start 4 1
    gdstudio run --objective "expr:sin(x)*cos(y) + 0.1*(x^2 + y^2)" --optimizer adam --start 2 2
    gdstudio run --objective rosenbrock --optimizer "rule:v = mu*v + g; x = x - lr*v" --lr 1e-3 --start -1.5 2
    gdstudio run --objective rosenbrock --optimizer rule:momentum.gdrule --gradient autodiff --start -1.5 2
    gdstudio check --objective rosenbrock --at -1.5 2
    gdstudio basins --objective himmelblau --optimizer gd --lr 0.01 --grid 500 --out basins.png
    gdstudio list
    gdstudio train --dataset digits --model svm --optimizer gd --lr 0.1 --epochs 20 --out curve.csv
    gdstudio landscape --model softmax --optimizer adam --lr 0.01 --batch-size 64 --directions pca --out slice.csv
    gdstudio saved.gdsession            # opens the window with a saved session

Errors in the arguments (unknown names, malformed numbers, non-finite starts, negative epochs, a key the
optimizer does not have, a name that is not valid text, an ``--out`` that is read-only or a folder) exit
with status 2 (1 for an unwritable ``--out``) and one line naming the problem, before anything is computed.
Negative numbers are values, also in exponent form: ``--start 1e200 -1e200``.

``gdstudio run`` keeps its steps in a temporary file, not in memory, and writes the CSV at the end (when
each start's status is known), to ``--out`` atomically or to standard output. Ctrl-C or SIGTERM stops the
run after the step in progress: the steps computed so far are written with status ``cancelled`` and the
exit status is 130 (SIGINT) or 143 (SIGTERM). A second signal abandons the writing: then nothing is
written (an existing ``--out`` file is left as it was) and no temporary file remains.
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
from typing import Sequence

from gdstudio import __version__

#: Exit status for bad arguments (argparse's convention) and for I/O failures.
EXIT_USAGE = 2
EXIT_IO = 1


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


#: Any number with a leading minus, also ``-1e200``, ``-.5E-3``, ``-inf`` and ``-nan`` (argparse's own pattern
#: knows only ``-1`` and ``-1.5``, and takes ``-1e200`` for an option).
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER  # negative numbers are values, never options

    def error(self, message: str):  # one line, no usage dump, no traceback
        raise UsageError(message)


def _finite(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def _positive(text: str) -> float:
    v = _finite(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return v


def _fd_step(text: str) -> float:
    v = _positive(text)
    if v < sys.float_info.min:
        raise argparse.ArgumentTypeError(f"{text!r} is too small: below {sys.float_info.min:.3g} (the smallest "
                                         f"normal float) x + h cannot be told from x")
    return v


def _text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an undecodable byte in the argument (Python passes it as a lone surrogate)
        raise argparse.ArgumentTypeError(f"{text!r} is not valid UTF-8 text") from None
    return text


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 0")
    return v


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not of the form KEY=VALUE")
    return key.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gdstudio", usage="gdstudio [-h] [--version] [SESSION.gdsession | {run,check,list} ...]",
                description="See optimization: gradient descent and its relatives on loss surfaces. Without a "
                            "command, opens the window; `gdstudio SESSION.gdsession` opens the window with that "
                            "saved session (File ▸ Save session… writes one). The window needs a display: "
                            "without one, use `xvfb-run -a gdstudio` or the commands below.")
    p.add_argument("--version", action="version", version=f"gdstudio {__version__}")
    p.add_argument("--quit-after", type=_positive, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="{run,check,basins,list,train,landscape}", parser_class=_Parser)

    r = sub.add_parser("run", help="run an optimizer headless and write the trajectory as CSV",
                       description="Run an optimizer on an objective without a window. The CSV goes to standard "
                                   "output (or --out); a one-line summary per start goes to standard error.")
    r.add_argument("--objective", required=True, metavar="NAME",
                   help="a built-in objective (see `gdstudio list`) or expr:<formula>, e.g. \"expr:x^2 + 3*y^2\"")
    r.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="an objective parameter, e.g. --param kappa=50 for quadratic (repeatable)")
    r.add_argument("--optimizer", required=True, metavar="NAME",
                   help="an optimizer (see `gdstudio list`), or your own update rule: \"rule:v = mu*v + g; "
                        "x = x - lr*v\" or rule:FILE.gdrule (params declared with `param mu = 0.9`)")
    r.add_argument("--start", type=_finite, nargs=2, action="append", metavar=("X", "Y"), required=True,
                   help="a start point (repeat for several starts, run together)")
    r.add_argument("--lr", type=_finite, metavar="F", help="learning rate ε (same as --set lr=F)")
    r.add_argument("--epochs", type=_nonneg_int, default=100, metavar="N", help="number of updates (default 100)")
    r.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE", dest="hp",
                   help="an optimizer hyperparameter, e.g. --set momentum=0.9 (repeatable)")
    r.add_argument("--gradient", default="analytic", metavar="SOURCE",
                   help="analytic (default), central or forward finite differences, or autodiff "
                        "(reverse mode over the objective's formula)")
    r.add_argument("--fd-step", type=_fd_step, metavar="H", help="finite-difference step h")
    r.add_argument("--tol", type=_finite, metavar="T", help="stop when ‖∇f‖ ≤ T (converged)")
    r.add_argument("--seed", type=_int, default=0, metavar="S", help="seed of random methods (default 0)")
    r.add_argument("--name", type=_text, default="", help="run label in the CSV (default run1)")
    r.add_argument("--out", metavar="FILE.csv", help="write the CSV here (atomically) instead of standard output")

    c = sub.add_parser("check", help="compare the analytic gradient with finite differences and autodiff",
                       description="Analytic gradient against central and forward differences and reverse-mode "
                                   "autodiff at a point, "
                                   "with relative errors ‖g_fd − g‖ / max(‖g‖, ‖g_fd‖).")
    c.add_argument("--objective", required=True, metavar="NAME", help="a built-in objective or expr:<formula>")
    c.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="an objective parameter (repeatable)")
    c.add_argument("--at", type=_finite, nargs=2, required=True, metavar=("X", "Y"), help="the point")
    c.add_argument("--fd-step", type=_fd_step, metavar="H",
                   help="h for both schemes (default: each scheme's own)")

    b = sub.add_parser("basins", help="one start per grid point: which critical point each start reaches",
                       description="Run one start per point of a grid and classify where each ends: the index "
                                   "of the objective's critical point within reach (basin), or -1 (diverged, "
                                   "or near none). Writes x0, y0, x, y, status, steps, basin per start as CSV, "
                                   "or the map with a legend as PNG; the critical points and basin sizes go "
                                   "to standard error.")
    b.add_argument("--objective", required=True, metavar="NAME", help="a built-in objective or expr:<formula>")
    b.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="an objective parameter (repeatable)")
    b.add_argument("--optimizer", required=True, metavar="NAME", help="an optimizer (see `gdstudio list`)")
    b.add_argument("--lr", type=_finite, metavar="F", help="learning rate ε (same as --set lr=F)")
    b.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE", dest="hp",
                   help="an optimizer hyperparameter (repeatable)")
    b.add_argument("--epochs", type=_nonneg_int, default=200, metavar="N", help="updates per start (default 200)")
    b.add_argument("--tol", type=_finite, default=1e-6, metavar="T",
                   help="a start stops when ‖∇f‖ ≤ T (converged; default 1e-6): brightness shows how fast")
    b.add_argument("--gradient", default="analytic", metavar="SOURCE",
                   help="analytic (default), central or forward finite differences")
    b.add_argument("--grid", type=_nonneg_int, default=200, metavar="N", help="N × N starts (default 200)")
    b.add_argument("--bounds", type=_finite, nargs=4, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                   help="the grid's box (default: the objective's view)")
    b.add_argument("--radius", type=_positive, metavar="R",
                   help="an end within R of a critical point is in its basin (default: 2%% of the box diagonal)")
    b.add_argument("--out", metavar="FILE.csv|FILE.png", help="CSV or PNG (by extension); default: CSV on "
                                                             "standard output")

    sub.add_parser("list", help="list objectives and optimizers with their hyperparameters and defaults")
    _add_model_commands(sub)
    return p


# --- models: `gdstudio train` and `gdstudio landscape` ----------------------------------------------------
def _batch_size(text: str):
    if text.strip().lower() == "full":
        return None
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number or 'full'") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 1 (or 'full')")
    return v


def _fraction(text: str) -> float:
    v = _finite(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0, 1)")
    return v


def _grid(text: str) -> int:
    v = _nonneg_int(text)
    if v < 2:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 2")
    return v


def _train_options(t) -> None:
    t.add_argument("--dataset", default="digits", metavar="NAME|PATH",
                   help="digits (default), iris, wine, breast-cancer, a CSV file (numeric features + label column) "
                        "or a folder of MNIST/Fashion-MNIST IDX files")
    t.add_argument("--model", required=True, choices=("svm", "softmax", "mlp"), help="the classifier")
    t.add_argument("--optimizer", required=True, metavar="NAME", help="an optimizer (see `gdstudio list`)")
    t.add_argument("--lr", type=_finite, metavar="F", help="learning rate ε (same as --set lr=F)")
    t.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE", dest="hp",
                   help="an optimizer hyperparameter, e.g. --set momentum=0.9 (repeatable)")
    t.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="a model parameter: reg=λ (all models), hidden=32 and activation=relu|tanh (mlp)")
    t.add_argument("--batch-size", type=_batch_size, default=None, metavar="B|full",
                   help="samples per step, reshuffled every epoch (default full: the whole training set)")
    t.add_argument("--val", type=_fraction, default=0.0, metavar="F",
                   help="fraction of samples held out for validation, chosen with the seed (default 0)")
    t.add_argument("--epochs", type=_nonneg_int, default=10, metavar="E", help="passes over the training set "
                                                                                 "(default 10)")
    t.add_argument("--seed", type=_int, default=0, metavar="S",
                   help="seeds the split, the shuffles, the initial weights and the directions (default 0)")
    t.add_argument("--init", choices=("zeros", "normal"), default="zeros",
                   help="initial weights of the linear models: zeros (default) or 0.01·N(0, 1); the MLP is "
                        "He-initialised")
    t.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=None,
                   help="standardise the features (default: on for tables, off for images)")


def _add_model_commands(sub) -> None:
    t = sub.add_parser("train", help="train a classifier on a dataset and write its training curve as CSV",
                       description="Train a classifier (svm, softmax or mlp) with an optimizer. The CSV has one row "
                                   "per step: step, epoch, batch_loss, train_loss, val_loss, train_acc, val_acc "
                                   "(the last four at each epoch end; step 0 = the initial parameters).")
    _train_options(t)
    t.add_argument("--out", required=True, metavar="CURVE.csv", help="write the training curve here")
    ls = sub.add_parser("landscape", help="train, then write a 1-D or 2-D slice of the loss around the result",
                        description="Train with the same options as `train`, then evaluate the training loss on "
                                    "the plane θ + a·δ + b·η around the final parameters. The slice CSV has "
                                    "columns a, b, loss; the path projected on the plane goes to --path-out.")
    _train_options(ls)
    ls.add_argument("--directions", choices=("random", "filter", "pca"), default="filter",
                    help="random Gaussian, filter-normalised (default) or the PCA plane of the path")
    ls.add_argument("--grid", type=_grid, default=51, metavar="N", help="points per axis (default 51)")
    ls.add_argument("--span", type=_positive, default=1.0, metavar="S", help="a, b in [-S, S] (default 1.0)")
    ls.add_argument("--dims", type=int, choices=(1, 2), default=2, help="1-D or 2-D slice (default 2)")
    ls.add_argument("--out", required=True, metavar="SLICE.csv", help="write the slice here (a, b, loss)")
    ls.add_argument("--path-out", metavar="PATH.csv",
                    help="the projected path (step, epoch, a, b, loss, distance, miss); default: SLICE-path.csv")


def _hyperparams_from_args(a) -> dict:
    """``--set K=V`` and ``--lr`` checked against the optimizer's specs (``a.optimizer`` already resolved)."""
    from gdstudio.core.optimizers import optimizer_class

    opt_cls = optimizer_class(a.optimizer)
    hp = {}
    for key, value in a.hp:
        try:
            spec = opt_cls.spec(key)
        except KeyError:
            valid = ", ".join(h.name for h in opt_cls.hyperparams) or "none"
            raise ValueError(f"optimizer {a.optimizer!r} has no hyperparameter {key!r} (valid: {valid})") from None
        hp[key] = spec.parse(value)
    if a.lr is not None:
        if not any(h.name == "lr" for h in opt_cls.hyperparams):
            raise ValueError(f"optimizer {a.optimizer!r} has no learning rate (--lr)")
        hp["lr"] = opt_cls.spec("lr").parse(a.lr)
    return hp


def _train_config(a):
    from gdstudio.core.rules import resolve_rule_spec
    from gdstudio.core.training import TrainConfig

    a.optimizer = resolve_rule_spec(a.optimizer)  # your own update rule, as for `gdstudio run`
    hp = _hyperparams_from_args(a)
    return TrainConfig.create(dataset=a.dataset, model=a.model, optimizer=a.optimizer, hyperparams=hp,
                              model_params=dict(a.param), batch_size=a.batch_size, val=a.val, epochs=a.epochs,
                              seed=a.seed, init=a.init, standardize=a.standardize)


def _train_summary(r) -> str:
    c = r.curve
    rows = c.epoch_rows()
    last = rows[-1] if len(rows) else len(c) - 1

    def f(col):
        v = c.array(col)[last]
        return "-" if v != v else f"{v:.6g}"

    return (f"{r.model.title} (d = {r.model.dim}), {r.config.optimizer}: {r.message}; {len(c) - 1} steps; "
            f"train loss {f('train_loss')}, acc {f('train_acc')}; val loss {f('val_loss')}, acc {f('val_acc')}")


def cmd_train(a) -> int:
    from gdstudio.core.training import train

    r = train(_train_config(a), keep_thetas=False)
    try:
        r.curve.write(a.out)
    except OSError as e:
        print(f"gdstudio train: cannot write {a.out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_IO
    print(_train_summary(r), file=sys.stderr)
    return 0


def cmd_landscape(a) -> int:
    from pathlib import Path

    from gdstudio.core.landscape import landscape_csvs, make_plane, grid_slice, project
    from gdstudio.core.training import train

    cfg = _train_config(a)
    r = train(cfg, keep_thetas=True)
    plane = make_plane(r.model, r.final, a.directions, a.seed, r.thetas)
    sl = grid_slice(r.model, plane, a.grid, a.span, a.dims)
    proj = project(plane, r.thetas)
    out = Path(a.out)
    path_out = Path(a.path_out) if a.path_out else out.with_name(out.stem + "-path" + (out.suffix or ".csv"))
    slice_text, path_text = landscape_csvs(sl, proj, r.curve)
    from gdstudio.core.files import atomic_write

    for target, text in ((out, slice_text), (path_out, path_text)):
        try:
            atomic_write(target, text)
        except OSError as e:
            print(f"gdstudio landscape: cannot write {target}: {e.strerror or e}", file=sys.stderr)
            return EXIT_IO
    print(_train_summary(r), file=sys.stderr)
    print(f"slice: {plane.caption()}; {a.grid}{'×' + str(a.grid) if a.dims == 2 else ''} points, span {a.span:g}; "
          f"centre loss {sl.loss[len(sl.a) // 2, len(sl.b) // 2]:.6g}; the plane misses on average "
          f"{100 * proj.mean_miss:.1f} % of each step's length; path in {path_out}", file=sys.stderr)
    return 0


def _config_from_args(a):
    from gdstudio.core.objectives import get_objective
    from gdstudio.core.rules import resolve_rule_spec
    from gdstudio.core.runs import RunConfig

    a.optimizer = resolve_rule_spec(a.optimizer)  # rule:FILE.gdrule -> rule:<its text>
    hp = _hyperparams_from_args(a)
    params = _objective_params(a.param)
    objective = get_objective(a.objective, params)  # validates names and parameters
    from gdstudio.core.gradients import check_method

    check_method(a.gradient)
    return objective, RunConfig.create(
        objective=a.objective, optimizer=a.optimizer, starts=a.start, epochs=a.epochs, hyperparams=hp,
        objective_params=params, gradient=a.gradient, fd_step=a.fd_step, tol=a.tol, seed=a.seed, name=a.name)


def _summary(label: str, message: str, rows: int, final, loss: float, evals=None) -> str:
    """One line per start; ``evals``: its evaluations of f, ∇f and the Hessian (scipy's nfev, njev, nhev)."""
    tail = "" if evals is None else "; evaluations: f {}, ∇f {}, H {}".format(*(int(v) for v in evals))
    if rows == 0:  # not even the start has a finite loss
        return f"{label}: {message}; no step recorded{tail}"
    pt = ", ".join(f"{v:.6g}" for v in final)
    return f"{label}: {message}; {rows - 1} steps; final ({pt}); loss {loss:.6g}{tail}"


def _check_out(path: str) -> None:
    """Refuse an ``--out`` that could not be written, before computing anything (raises OSError)."""

    from gdstudio.core.files import check_target, is_stream

    target, st = check_target(path)
    folder = target.parent
    if not is_stream(st) and not folder.is_dir():
        raise FileNotFoundError(2, "no such folder", str(folder))


def _warn_fd_step(config) -> None:
    h = config.fd_step
    if h is None or config.gradient in ("analytic", "autodiff"):  # h plays no part in either
        return
    lost = [s for s in config.starts if any(v + h == v or v - h == v for v in s)]
    if lost:
        print(f"gdstudio run: warning: h={h:g} is lost in rounding at start {lost[0]} (x + h == x): the "
              f"finite-difference gradient there is 0 or noise; choose a larger --fd-step", file=sys.stderr)


def cmd_run(a) -> int:
    from gdstudio.core.export import SpooledRun
    from gdstudio.core.runs import Run

    if a.out:
        try:
            _check_out(a.out)
        except OSError as e:
            print(f"gdstudio run: cannot write {a.out}: {e.strerror or e}", file=sys.stderr)
            return EXIT_IO
    objective, config = _config_from_args(a)
    _warn_fd_step(config)
    r = Run(config, objective)
    stopped: list[int] = []

    def on_signal(signum, _frame):  # first signal: end the run after this step; second: give up writing
        if stopped:
            raise KeyboardInterrupt
        stopped.append(signum)
        r.cancel()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SpooledRun(r) as spool:
            for step in r:
                spool.add(step)
            if a.out:
                try:
                    spool.write_csv(a.out)
                except OSError as e:
                    print(f"gdstudio run: cannot write {a.out}: {e.strerror or e}", file=sys.stderr)
                    return EXIT_IO
            else:
                spool.write_csv_to(sys.stdout)
                sys.stdout.flush()
            for i in range(spool.n):
                last = spool.last(i)
                print(_summary(spool.label(i), r.message[i], int(spool.rows[i]), *(last or (None, None)),
                               (r.nfev[i], r.njev[i], r.nhev[i])), file=sys.stderr)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped:
        name = signal.Signals(stopped[0]).name
        print(f"gdstudio run: stopped by {name}; the steps computed so far were written (status cancelled)",
              file=sys.stderr)
        return 128 + stopped[0]
    return 0


def _hyperparams(opt_name: str, pairs, lr) -> dict:
    from gdstudio.core.optimizers import optimizer_class

    opt_cls = optimizer_class(opt_name)
    hp = {}
    for key, value in pairs:
        try:
            spec = opt_cls.spec(key)
        except KeyError:
            valid = ", ".join(h.name for h in opt_cls.hyperparams) or "none"
            raise ValueError(f"optimizer {opt_name!r} has no hyperparameter {key!r} (valid: {valid})") from None
        hp[key] = spec.parse(value)
    if lr is not None:
        if not any(h.name == "lr" for h in opt_cls.hyperparams):
            raise ValueError(f"optimizer {opt_name!r} has no learning rate (--lr)")
        hp["lr"] = opt_cls.spec("lr").parse(lr)
    return hp


def cmd_basins(a) -> int:
    from gdstudio.core.basins import basin_map
    from gdstudio.core.gradients import check_method
    from gdstudio.core.objectives import get_objective

    out = a.out or ""
    kind = "png" if out.lower().endswith(".png") else "csv"
    if out and not out.lower().endswith((".png", ".csv")):
        raise ValueError(f"--out must end in .csv or .png, got {out!r}")
    hp = _hyperparams(a.optimizer, a.hp, a.lr)
    objective = get_objective(a.objective, _objective_params(a.param))
    check_method(a.gradient)
    if a.grid < 2:
        raise ValueError(f"--grid must be at least 2, got {a.grid}")
    bounds = None
    if a.bounds:
        x0, x1, y0, y1 = a.bounds
        if not (x0 < x1 and y0 < y1):
            raise ValueError("--bounds must be XMIN XMAX YMIN YMAX with XMIN < XMAX and YMIN < YMAX")
        bounds = ((x0, x1), (y0, y1))
    m = basin_map(objective, a.optimizer, grid=a.grid, bounds=bounds, epochs=a.epochs, hyperparams=hp,
                  tol=a.tol, gradient=a.gradient, radius=a.radius)
    try:
        if kind == "png":
            from gdstudio.gui.views.basin_layer import write_png

            write_png(out, m)
        elif out:
            m.write_csv(out)
        else:
            m.write_csv_to(sys.stdout)
    except OSError as e:
        print(f"gdstudio basins: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_IO
    for line in m.summary():
        print(line, file=sys.stderr)
    return 0


def _objective_params(pairs) -> dict[str, float]:
    params = {}
    for key, value in pairs:
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"objective parameter {key}={value!r} is not a number") from None
    return params


def cmd_check(a, out=None) -> int:
    from gdstudio.core.gradients import gradient_check
    from gdstudio.core.objectives import get_objective

    out = out or sys.stdout
    objective = get_objective(a.objective, _objective_params(a.param))
    r = gradient_check(objective, a.at, a.fd_step, a.fd_step)

    def vec(v):
        return "(" + ", ".join(f"{x:.12g}" for x in v) + ")"

    print(f"{objective.title} at {vec(r.point)}", file=out)
    print(f"  analytic              {vec(r.analytic)}", file=out)
    print(f"  central  h={r.h_central:<9.3g}  {vec(r.central)}  relative error {r.error_central:.3g}", file=out)
    print(f"  forward  h={r.h_forward:<9.3g}  {vec(r.forward)}  relative error {r.error_forward:.3g}", file=out)
    if r.autodiff is not None:
        print(f"  autodiff              {vec(r.autodiff)}  relative error {r.error_autodiff:.3g}", file=out)
    return 0


def cmd_list(out=None) -> int:
    from gdstudio.core.objectives import get_objective, objective_names
    from gdstudio.core.optimizers import OPTIMIZERS, PLUGINS, SKIPPED_PLUGINS

    out = out or sys.stdout
    print("Objectives (--objective NAME, or expr:<formula>):", file=out)
    for name in objective_names():
        f = get_objective(name)
        dom = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in f.domain)
        print(f"  {name:<16} f = {f.formula}    domain {dom}", file=out)
        for p in f.parameters():
            print(f"  {'':<16}   --param {p.name}={p.default:g}  {p.doc}", file=out)
    print("\nOptimizers (--optimizer NAME; hyperparameters with --set KEY=VALUE):", file=out)
    for name, cls in OPTIMIZERS.items():
        plugin = f"  [plugin {PLUGINS[name]}]" if name in PLUGINS else ""
        print(f"  {name:<20} {cls.rule}{plugin}", file=out)
        for h in cls.hyperparams:
            print(f"  {'':<20}   {h.name}={h.default}  in {h.range_text()}  {h.doc}", file=out)
    print('  rule:<rule>          your own update rule, e.g. "rule:param lr = 0.01; v = 0.9*v + g; x = x - lr*v"'
          ' (or rule:FILE.gdrule)', file=out)
    for name, why in SKIPPED_PLUGINS.items():
        print(f"  {name:<20} skipped plugin: {why}", file=out)
    _list_models(out)
    return 0


#: The window's own options, each with one value (see gdstudio.gui.app).
_WINDOW_OPTIONS = ("--quit-after", "--screenshot")


def opens_session(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is ``FILE.gdsession`` alone (with the window's own options): open it in the window.

    Any other use of a ``.gdsession`` name (e.g. as a subcommand's value) goes to the subcommands' parser.
    """
    positional, i = [], 0
    while i < len(argv):
        t = argv[i]
        if t in _WINDOW_OPTIONS:
            i += 2
            continue
        if t.startswith(tuple(o + "=" for o in _WINDOW_OPTIONS)):
            i += 1
            continue
        if t.startswith("-"):
            return False
        positional.append(t)
        i += 1
    return len(positional) == 1 and positional[0].endswith(".gdsession")


def _list_models(out) -> None:
    from gdstudio.core.data import BUILTIN_DATASETS
    from gdstudio.core.models import MODEL_PARAMS, TITLES

    print("\nModels (gdstudio train / landscape --model NAME; parameters with --param KEY=VALUE):", file=out)
    for name, params in MODEL_PARAMS.items():
        print(f"  {name:<20} {TITLES[name]}", file=out)
        for p in params:
            print(f"  {'':<20}   {p.name}={p.default}  in {p.range_text()}  {p.doc}", file=out)
    print(f"Datasets (--dataset): {', '.join(BUILTIN_DATASETS)}, a CSV file or a folder of MNIST IDX files",
          file=out)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if opens_session(argv):
        from gdstudio.gui.app import main as gui_main  # `gdstudio SESSION.gdsession`: open it in the window

        return gui_main(argv)
    parser = build_parser()
    try:
        a = parser.parse_args(argv)
        if a.command == "run":
            return cmd_run(a)
        if a.command == "list":
            return cmd_list()
        if a.command == "check":
            return cmd_check(a)
        if a.command == "basins":
            return cmd_basins(a)
        if a.command == "train":
            return cmd_train(a)
        if a.command == "landscape":
            return cmd_landscape(a)
    except UsageError as e:
        print(f"gdstudio: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:
        print(f"gdstudio: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `gdstudio run ... | head`
        return 0
    except KeyboardInterrupt:  # Ctrl-C before the run started, or a second one while writing
        print("gdstudio: interrupted; nothing was written", file=sys.stderr)
        return 130
    from gdstudio.gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
