"""Sessions: the runs on screen saved to a versioned JSON file, and read back exactly.

A session file is plain JSON (never pickle: opening a file must not run code), UTF-8, shaped::

    {
      "format": "gdstudio-session",
      "version": 1,
      "app_version": "0.1.0",
      "objective": {"spec": "rosenbrock", "params": {}},
      "runs": [
        {"config": {<RunConfig.to_dict()>}, "colour": "#1f77b4", "visible": true},
        ...
      ],
      "view": {...}                      (optional: whatever the window wants to restore)
    }

Floats are written with ``repr`` (what :mod:`json` does), which round-trips every float64 exactly, so
re-running a loaded run's config gives bit-identical trajectories.

Reading is strict and bounded: a file that is not a regular file or is larger than :data:`MAX_BYTES`, or beyond
the limits below (:data:`MAX_RUNS` runs, :data:`MAX_STARTS` starts in all, :data:`MAX_EPOCHS` epochs per run,
:data:`MAX_STEPS` steps in all, a whole number above :data:`MAX_INT`, texts longer than :data:`MAX_TEXT`
characters, lists longer than :data:`MAX_LIST`) is refused with a message naming the limit, before any
formula is compiled. A file that is not UTF-8 JSON, has another ``format``, misses a key, has a value of
the wrong type, a non-finite number (``NaN``, ``Infinity``, ``1e999``), an unknown objective or optimizer,
an invalid hyperparameter, or a ``version`` newer than :data:`VERSION` raises :class:`SessionError`
(a ``ValueError``) with a message naming the problem, before anything is returned, so a caller that
only applies a successfully loaded session changes nothing on failure. Writing goes through
:mod:`gdstudio.core.files` (atomic; a link is written through, a read-only file refused); a name with a
lone surrogate (not UTF-8) is saved with JSON's ``\\udcff`` escape and reads back the same.

>>> from gdstudio.core.runs import RunConfig
>>> s = Session("sphere", runs=(SessionRun(RunConfig.create("sphere", "gd", [[1.0, 2.0]], epochs=3)),))
>>> loads(dumps(s)) == s
True
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from gdstudio import __version__
from gdstudio.core.files import atomic_write
from gdstudio.core.objectives import Objective, get_objective, objective_spec
from gdstudio.core.runs import RunConfig

#: The value of the ``format`` key: what this file is.
FORMAT = "gdstudio-session"
#: The newest format version this code reads and the one it writes.
VERSION = 1
#: The usual file name extension.
SUFFIX = ".gdsession"
#: Files larger than this are refused (a session holds configs, not trajectories: a few kB).
MAX_BYTES = 16 * 1024 * 1024

#: Limits checked on load (a session beyond them is refused with a message naming the limit): runs in a
#: file, start points (per run and in all), epochs per run (the window's own limit), the steps a
#: window would have to keep (the sum over runs of starts × epochs), the length of any text (names, titles),
#: the length of any list and the size of any whole number.
MAX_RUNS = 50  # each run adds items to every view on the GUI thread: 100 runs took 2.9 s to show (measured)
MAX_STARTS = 10_000
MAX_EPOCHS = 100_000_000
MAX_STEPS = 100_000_000
MAX_TEXT = 1000
MAX_LIST = 10_000
MAX_INT = 2**64

_RUN_KEYS = ("config", "colour", "visible")
_TOP_KEYS = ("format", "version", "app_version", "objective", "runs", "view")

#: Upgrades from an older version ``v`` to ``v + 1`` (dict -> dict); empty while only version 1 exists.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class SessionError(ValueError):
    """A session file could not be read or written; the message says why, for the user."""


@dataclass(frozen=True)
class SessionRun:
    """One run as the window shows it: its config (with its name), its colour and whether it is shown.

    ``colour`` is ``""`` (let the window choose) or ``"#rrggbb"``.
    """

    config: RunConfig
    colour: str = ""
    visible: bool = True

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True)
class Session:
    """What a session file holds.

    ``objective`` is an :class:`~gdstudio.core.objectives.Objective` instance or a spec (a built-in
    name or ``"expr:<formula>"``) with ``objective_params``; an instance carries its own parameters.
    Saving writes the spec; an objective the registry cannot restore by name cannot be saved
    (:class:`SessionError` says so). A loaded session holds the spec.
    """

    objective: str | Objective
    objective_params: tuple[tuple[str, float], ...] = ()
    runs: tuple[SessionRun, ...] = ()
    view: Mapping[str, Any] = field(default_factory=dict)
    app_version: str = __version__

    def __post_init__(self):
        if isinstance(self.objective_params, Mapping):
            object.__setattr__(self, "objective_params", tuple(sorted(self.objective_params.items())))
        if isinstance(self.objective, Objective):
            object.__setattr__(self, "objective_params", tuple(sorted(self.objective.params.items())))
        object.__setattr__(self, "runs", tuple(self.runs))

    @property
    def params(self) -> dict[str, float]:
        return dict(self.objective_params)


# --- writing ----------------------------------------------------------------------------------------
def to_dict(session: Session) -> dict[str, Any]:
    """The JSON-ready dict of ``session`` (:func:`from_dict` inverts it)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "app_version": str(session.app_version),
        "objective": {"spec": objective_spec(session.objective), "params": dict(session.objective_params)},
        "runs": [{"config": r.config.to_dict(), "colour": r.colour, "visible": bool(r.visible)}
                 for r in session.runs],
        "view": dict(session.view),
    }


def _plain(o: Any) -> Any:
    # numpy scalars and arrays that slipped into hyperparameters or the view become plain Python values.
    if isinstance(o, (np.generic, np.ndarray)):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot save a value of type {type(o).__name__} in a session")


def dumps(session: Session) -> str:
    """The session as JSON text. Raises :class:`SessionError` if it holds something JSON cannot say."""
    try:
        d = to_dict(session)
        _check_value(d, "session")
        text = json.dumps(d, indent=2, ensure_ascii=False, allow_nan=False, default=_plain)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (e.g. pasted into a name): JSON's \udcff escape keeps it
            text = json.dumps(d, indent=2, ensure_ascii=True, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as e:
        raise SessionError(f"cannot save this session: {e}") from None
    from_dict(json.loads(text))  # never write a file this code could not read back
    return text + "\n"


def save(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` to ``path`` atomically and return the path.

    Raises :class:`SessionError` for a session that cannot be saved and ``OSError`` for an unwritable
    place; either way an existing file at ``path`` is left as it was.
    """
    path = Path(path)
    data = dumps(session).encode("utf-8")
    atomic_write(path, data)
    return path


# --- reading ----------------------------------------------------------------------------------------
def _reject_constant(name: str):
    raise SessionError(f"not a valid session: it contains {name}, which is not a finite number")


def _check_value(v: Any, where: str) -> None:
    """Every number in ``v`` finite (JSON's 1e999 parses as inf); keys are strings; texts, lists and whole
    numbers within :data:`MAX_TEXT`, :data:`MAX_LIST` and :data:`MAX_INT`."""
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SessionError(f"not a valid session: {where} is {v!r}, not a finite number")
    elif isinstance(v, bool):
        pass
    elif isinstance(v, int):
        if abs(v) > MAX_INT:
            raise SessionError(f"not a valid session: {where} is a whole number of {len(str(abs(v)))} digits, "
                               f"too large (at most {MAX_INT:.3g})")
    elif isinstance(v, str):
        if len(v) > MAX_TEXT:
            raise SessionError(f"not a valid session: {where} is {len(v):,} characters long "
                               f"(at most {MAX_TEXT:,})")
    elif isinstance(v, dict):
        if len(v) > MAX_LIST:
            raise SessionError(f"not a valid session: {where} has {len(v):,} entries (at most {MAX_LIST:,})")
        for k, x in v.items():
            if not isinstance(k, str):
                raise SessionError(f"not a valid session: {where} has a key that is not text")
            if len(k) > MAX_TEXT:
                raise SessionError(f"not a valid session: {where} has a key {len(k):,} characters long "
                                   f"(at most {MAX_TEXT:,})")
            _check_value(x, f"{where}.{k}")
    elif isinstance(v, list):
        if len(v) > MAX_LIST:
            raise SessionError(f"not a valid session: {where} has {len(v):,} items (at most {MAX_LIST:,})")
        for i, x in enumerate(v):
            _check_value(x, f"{where}[{i}]")


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a whole number",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _expect(v: Any, types: tuple, where: str, what: str) -> Any:
    ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
    if not ok:
        raise SessionError(f"not a valid session: {where} must be {what}, got {_type_name(v)}")
    return v


_NUM = (int, float)
# What building an objective or a config from a file's values may raise (a custom formula goes through SymPy).
_BUILD_ERRORS = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, ImportError, RecursionError)


def _check_config(c: Any, where: str) -> RunConfig:
    _expect(c, (dict,), where, "an object")
    for key in ("objective", "optimizer", "starts", "epochs"):
        if key not in c:
            raise SessionError(f"not a valid session: {where} has no {key!r}")
    _expect(c["objective"], (str,), f"{where}.objective", "text")
    _expect(c["optimizer"], (str,), f"{where}.optimizer", "text")
    starts = _expect(c["starts"], (list,), f"{where}.starts", "a list of points")
    for i, s in enumerate(starts):
        _expect(s, (list,), f"{where}.starts[{i}]", "a list of numbers")
        for j, v in enumerate(s):
            _expect(v, _NUM, f"{where}.starts[{i}][{j}]", "a number")
    _expect(c["epochs"], (int,), f"{where}.epochs", "a whole number")
    for key in ("hyperparams", "objective_params"):
        if key in c:
            _expect(c[key], (dict,), f"{where}.{key}", "an object")
    for k, v in c.get("hyperparams", {}).items():
        _expect(v, (int, float, bool, str), f"{where}.hyperparams.{k}", "a number, true/false or text")
    for k, v in c.get("objective_params", {}).items():
        _expect(v, _NUM, f"{where}.objective_params.{k}", "a number")
    for key, types, what in (("gradient", (str,), "text"), ("name", (str,), "text"),
                             ("seed", (int,), "a whole number"),
                             ("fd_step", _NUM + (type(None),), "a number or null"),
                             ("tol", _NUM + (type(None),), "a number or null")):
        if key in c:
            _expect(c[key], types, f"{where}.{key}", what)
    check_limits(len(starts), c["epochs"], where)
    try:
        return RunConfig.from_dict(c)
    except _BUILD_ERRORS as e:
        raise SessionError(f"not a valid session: {where}: {e}") from None


def check_config(c: Any, where: str = "config") -> RunConfig:
    """A run config from its JSON dict, with every check a session file's runs get; raises SessionError."""
    return _check_config(c, where)


def check_limits(starts: int, epochs: int, where: str = "the run") -> None:
    """Refuse (SessionError) a run beyond :data:`MAX_STARTS` or :data:`MAX_EPOCHS`."""
    if starts > MAX_STARTS:
        raise SessionError(f"not a valid session: {where} has {starts:,} start points (at most {MAX_STARTS:,})")
    if not 0 <= epochs <= MAX_EPOCHS:
        raise SessionError(f"not a valid session: {where}.epochs is {epochs:,} (from 0 to {MAX_EPOCHS:,})")


_HEX = set("0123456789abcdefABCDEF")


def from_dict(d: Any) -> Session:
    """Check a parsed session dict and build the :class:`Session`; raise :class:`SessionError` if invalid."""
    _expect(d, (dict,), "the file", "a JSON object")
    if d.get("format") != FORMAT:
        raise SessionError(f"not a gdstudio session: \"format\" must be {FORMAT!r}, "
                           f"got {d.get('format', 'nothing')!r}")
    version = d.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionError(f"not a valid session: \"version\" must be a whole number ≥ 1, got {version!r}")
    if version > VERSION:
        raise SessionError(
            f"this session was saved by a newer gdstudio ({d.get('app_version', 'unknown version')!s}, "
            f"session format {version}); gdstudio {__version__} reads session formats up to {VERSION}. "
            f"Update gdstudio to open it.")
    _check_value(d, "session")
    while version < VERSION:
        d = MIGRATIONS[version](dict(d))
        version += 1
    unknown = sorted(set(d) - set(_TOP_KEYS))
    if unknown:
        raise SessionError(f"not a valid session: unknown key {unknown[0]!r} (valid: {', '.join(_TOP_KEYS)})")
    for key in ("objective", "runs"):
        if key not in d:
            raise SessionError(f"not a valid session: missing {key!r}")
    app_version = _expect(d.get("app_version", ""), (str,), "app_version", "text")
    obj = _expect(d["objective"], (dict,), "objective", "an object")
    if "spec" not in obj:
        raise SessionError("not a valid session: objective has no 'spec'")
    spec = _expect(obj["spec"], (str,), "objective.spec", "text")
    params = _expect(obj.get("params", {}), (dict,), "objective.params", "an object")
    for k, v in params.items():
        _expect(v, _NUM, f"objective.params.{k}", "a number")
    runs = []
    raw_runs = _expect(d["runs"], (list,), "runs", "a list")
    if len(raw_runs) > MAX_RUNS:
        raise SessionError(f"not a valid session: it has {len(raw_runs):,} runs (at most {MAX_RUNS})")
    steps = starts = 0
    for i, r in enumerate(raw_runs):
        c = r.get("config") if isinstance(r, dict) else None
        if isinstance(c, dict) and isinstance(c.get("starts"), list) and isinstance(c.get("epochs"), int):
            check_limits(len(c["starts"]), c["epochs"], f"runs[{i}].config")
            steps += len(c["starts"]) * c["epochs"]
            starts += len(c["starts"])
    if starts > MAX_STARTS:
        raise SessionError(f"not a valid session: its runs have {starts:,} start points in all "
                           f"(at most {MAX_STARTS:,})")
    if steps > MAX_STEPS:  # checked before any config is built (a formula compiles)
        raise SessionError(f"not a valid session: its runs ask for {steps:,} steps in all (starts × epochs; "
                           f"at most {MAX_STEPS:,})")
    try:
        get_objective(spec, params)
    except _BUILD_ERRORS as e:
        raise SessionError(f"not a valid session: objective: {e}") from None
    for i, r in enumerate(raw_runs):
        where = f"runs[{i}]"
        _expect(r, (dict,), where, "an object")
        unknown = sorted(set(r) - set(_RUN_KEYS))
        if unknown:
            raise SessionError(f"not a valid session: {where} has an unknown key {unknown[0]!r}")
        if "config" not in r:
            raise SessionError(f"not a valid session: {where} has no 'config'")
        cfg = _check_config(r["config"], f"{where}.config")
        colour = _expect(r.get("colour", ""), (str,), f"{where}.colour", "text")
        if colour and not (len(colour) == 7 and colour[0] == "#" and set(colour[1:]) <= _HEX):
            raise SessionError(f"not a valid session: {where}.colour must be \"#rrggbb\", got {colour!r}")
        visible = _expect(r.get("visible", True), (bool,), f"{where}.visible", "true/false")
        runs.append(SessionRun(cfg, colour, visible))
    view = _expect(d.get("view", {}), (dict,), "view", "an object")
    return Session(spec, tuple(sorted((k, float(v)) for k, v in params.items())), tuple(runs), view,
                   app_version)


def loads(text: str | bytes) -> Session:
    """Parse session JSON text (or UTF-8 bytes); raise :class:`SessionError` if it is not a valid session."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise SessionError("not a gdstudio session: the file is not UTF-8 text") from None
    try:
        d = json.loads(text, parse_constant=_reject_constant)
    except SessionError:
        raise
    except RecursionError:
        raise SessionError("not a valid session: the JSON is nested too deeply") from None
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise SessionError(f"not a gdstudio session: the file is not valid JSON ({e})") from None
    return from_dict(d)


def load(path: str | os.PathLike) -> Session:
    """Read a session file. Raises :class:`SessionError` for a bad file, ``OSError`` if it cannot be read."""
    path = Path(path)
    if not stat.S_ISREG(os.stat(path).st_mode):  # opening a FIFO would wait for a writer; a device never ends
        raise SessionError(f"not a gdstudio session: {path.name} is not a regular file")
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SessionError(f"not a gdstudio session: {path.name} is larger than {MAX_BYTES // 2**20} MB")
    return loads(data)


__all__ = ["FORMAT", "MAX_BYTES", "MAX_EPOCHS", "MAX_INT", "MAX_LIST", "MAX_RUNS", "MAX_STARTS", "MAX_STEPS",
           "MAX_TEXT", "MIGRATIONS", "SUFFIX", "Session", "SessionError", "SessionRun", "VERSION", "check_config",
           "check_limits", "dumps", "from_dict", "load", "loads", "save", "to_dict"]
