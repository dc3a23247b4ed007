"""What the app remembers between sessions: typed, versioned, and the one module that touches QSettings.

:func:`load` returns a :class:`Settings` dataclass, :func:`save` writes one. Values are stored one key each;
everything except the window's geometry and state (Qt's own bytes) is stored as JSON text, so types survive
every QSettings backend (an INI file stores numbers as text), and floats round-trip exactly.

Reading never fails: each key is read and checked on its own, and a key that is missing, of the wrong type,
out of range, unparseable or written by a mangled file falls back to its default while the other keys keep
their values. The store carries a schema version (Orange's ``settings_version``, napari's
``schema_version``): :data:`MIGRATIONS` upgrades the raw values of an older store before they are checked;
a store from a newer version is read key by key like any other (what still fits is kept).

The default store is an INI file in the user's configuration folder
(``QSettings(IniFormat, UserScope, "gdstudio", "gdstudio")``, e.g. ``~/.config/gdstudio/gdstudio.ini``);
tests pass their own ``QSettings``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QSettings

from gdstudio.core.formula import MAX_LENGTH as _formula_max_length
from gdstudio.core.gradients import GRADIENT_METHODS
from gdstudio.core.objectives import EXPR_PREFIX, objective_names
from gdstudio.core.optimizers import OPTIMIZERS, optimizer_names
from gdstudio.core.session import MAX_EPOCHS as _session_max_epochs
from gdstudio.gui import defaults as _first_launch

log = logging.getLogger(__name__)

#: Version of the layout below; raise it (and add a migration) when a key changes meaning.
SCHEMA_VERSION = 1
VERSION_KEY = "schema_version"
#: Most recent formulas kept.
MAX_RECENT = 10
#: Longest text kept (a formula's name); longer values fall back to the default.
MAX_TEXT = 1000
#: Longest formula kept (the formula parser's own limit).
MAX_FORMULA = _formula_max_length
#: Most epochs kept (the panel's own limit).
MAX_EPOCHS = _session_max_epochs
#: Playback speed range, steps per second.
SPEED_RANGE = (0.1, 100_000.0)

#: Upgrades of the raw ``{key: value}`` mapping from version ``v`` to ``v + 1``; empty while only version 1
#: exists. A store without a version number is version 0 (nothing to upgrade: its keys are checked one by one).
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

#: Nothing stored (or a key unreadable): what the window shows on first launch (gdstudio.gui.defaults).
_DEFAULT = _first_launch.first_config()


@dataclass
class Settings:
    """Everything remembered. ``hyperparams`` maps an optimizer's name to its last hyperparameters;
    ``recent_formulas`` is most recent first, at most :data:`MAX_RECENT`; ``objective_title`` is the name
    of a custom formula (not part of its spec); ``splitter_state`` holds the window's splitters (opaque bytes
    the window packs)."""

    window_geometry: bytes = b""
    window_state: bytes = b""
    objective: str = _DEFAULT.objective
    objective_params: dict[str, float] = field(default_factory=dict)
    objective_title: str = ""
    optimizer: str = _DEFAULT.optimizer
    hyperparams: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {_DEFAULT.optimizer: dict(_DEFAULT.hyperparams)})
    epochs: int = _DEFAULT.epochs
    start: tuple[float, float] = tuple(_DEFAULT.starts[0].tolist())
    gradient: str = _DEFAULT.gradient
    fd_step: float | None = None
    speed: float = float(_first_launch.FIRST_SPEED)
    recent_formulas: list[str] = field(default_factory=list)
    splitter_state: bytes = b""
    #: Model mode's optimizer (a built-in's name or an own rule's spec) and its hyperparameters ({name: {...}})
    model_optimizer: str = "gd"
    model_hyperparams: dict[str, dict[str, Any]] = field(default_factory=dict)

    def hyperparams_for(self, optimizer: str) -> dict[str, Any]:
        """The remembered hyperparameters of ``optimizer`` (empty: use its defaults)."""
        return dict(self.hyperparams.get(optimizer, {}))

    def with_recent_formula(self, formula: str) -> "Settings":
        """A copy with ``formula`` first in the recent list (moved there if already present)."""
        formula = formula.strip()
        recent = [formula]
        for f in self.recent_formulas:  # O(MAX_RECENT): the list is capped
            if len(recent) == MAX_RECENT:
                break
            if f != formula:
                recent.append(f)
        return dataclasses.replace(self, recent_formulas=recent)


# --- checkers: raw JSON value -> typed value, or raise ValueError/TypeError ------------------------------
def _str(v) -> str:
    if not isinstance(v, str):
        raise TypeError("not text")
    return v


def _finite(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"not a number: {type(v).__name__}")
    try:
        f = float(v)  # a 400-digit whole number raises OverflowError here
    except OverflowError:
        raise ValueError("a number too large for a float") from None
    if not math.isfinite(f):
        raise ValueError(f"not a finite number: {f!r}")
    return f


def _text(v) -> str:
    v = _str(v)
    if len(v) > MAX_TEXT:
        raise ValueError(f"text of {len(v):,} characters (at most {MAX_TEXT:,})")
    return v


def _objective(v) -> str:
    v = _str(v)
    if len(v) > len(EXPR_PREFIX) + MAX_FORMULA:
        raise ValueError(f"a formula of {len(v):,} characters (at most {MAX_FORMULA})")
    if not (v.startswith(EXPR_PREFIX) or v in objective_names()):
        raise ValueError(f"unknown objective {v!r}")
    return v


def _objective_params(v) -> dict[str, float]:
    if not isinstance(v, dict):
        raise TypeError("not an object")
    return {_str(k): _finite(x) for k, x in v.items()}


def _optimizer(v) -> str:
    if _str(v).startswith("rule:"):  # the user's own rule (gdstudio.core.rules): kept when it compiles
        from gdstudio.core.optimizers import optimizer_class

        optimizer_class(v)
        return v
    if _str(v) not in optimizer_names():
        raise ValueError(f"unknown optimizer {v!r}")
    return v


def _hyperparams(v) -> dict[str, dict[str, Any]]:
    """Per optimizer, keep each hyperparameter its spec accepts; drop unknown optimizers and bad values."""
    if not isinstance(v, dict):
        raise TypeError("not an object")
    out: dict[str, dict[str, Any]] = {}
    for opt, hp in v.items():
        cls = OPTIMIZERS.get(opt)
        if cls is None and isinstance(opt, str) and opt.startswith("rule:"):
            from gdstudio.core.optimizers import optimizer_class

            try:
                cls = optimizer_class(opt)
            except ValueError:
                cls = None
        if cls is None or not isinstance(hp, dict):
            continue
        specs = {h.name: h for h in cls.hyperparams}
        kept = {}
        for name, value in hp.items():
            if name in specs and isinstance(value, (bool, int, float, str)):
                try:
                    kept[name] = specs[name].parse(value)
                except (ValueError, ArithmeticError):
                    log.info("settings: dropped %s=%r of %s", name, value, opt)
        out[opt] = kept
    return out


def _epochs(v) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_EPOCHS:
        raise ValueError(f"not a whole number from 0 to {MAX_EPOCHS:,}")
    return v


def _start(v) -> tuple[float, float]:
    if not isinstance(v, list) or len(v) != 2:
        raise ValueError("not a pair")
    return (_finite(v[0]), _finite(v[1]))


def _gradient(v) -> str:
    if _str(v) not in GRADIENT_METHODS:
        raise ValueError(f"unknown gradient source {v!r}")
    return v


def _fd_step(v) -> float | None:
    if v is None:
        return None
    v = _finite(v)
    if v <= 0:
        raise ValueError("not > 0")
    return v


def _speed(v) -> float:
    v = _finite(v)
    if not SPEED_RANGE[0] <= v <= SPEED_RANGE[1]:
        raise ValueError("out of range")
    return v


def _recent(v) -> list[str]:
    """The first :data:`MAX_RECENT` distinct formulas (a set for the duplicate check: O(n), and it stops
    as soon as the list is full, so a store with 100,000 entries reads as fast as one with ten)."""
    if not isinstance(v, list):
        raise TypeError("not a list")
    out: list[str] = []
    seen: set[str] = set()
    for f in v:
        if isinstance(f, str) and f.strip() and len(f) <= MAX_FORMULA and f not in seen:
            seen.add(f)
            out.append(f)
            if len(out) == MAX_RECENT:
                break
    return out


#: field name -> (key in the store, checker). Geometry and state are bytes, handled apart.
_JSON_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "objective": ("problem/objective", _objective),
    "objective_params": ("problem/objective_params", _objective_params),
    "objective_title": ("problem/objective_title", _text),
    "optimizer": ("optimizer/name", _optimizer),
    "hyperparams": ("optimizer/hyperparams", _hyperparams),
    "epochs": ("optimizer/epochs", _epochs),
    "start": ("start/point", _start),
    "gradient": ("gradient/source", _gradient),
    "fd_step": ("gradient/fd_step", _fd_step),
    "speed": ("run/speed", _speed),
    "recent_formulas": ("problem/recent_formulas", _recent),
    "model_optimizer": ("model/optimizer", _optimizer),
    "model_hyperparams": ("model/hyperparams", _hyperparams),
}
_BYTES_FIELDS = {"window_geometry": "window/geometry", "window_state": "window/state",
                 "splitter_state": "window/splitters"}


def open_store(path: str | None = None) -> QSettings:
    """The settings store: an INI file at ``path``, or the user's default one."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "gdstudio", "gdstudio")


def _read_raw(store: QSettings, key: str) -> Any:
    """The JSON value stored under ``key``; raises if missing or not JSON."""
    text = store.value(key)
    if not isinstance(text, str):
        raise KeyError(key)
    return json.loads(text)


def _stored_version(store: QSettings) -> int:
    try:
        v = _read_raw(store, VERSION_KEY)
    except Exception:  # noqa: BLE001 - missing or mangled: treat as unversioned
        return 0
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0


def load(store: QSettings | None = None) -> Settings:
    """Read the settings; every key that is missing or invalid gets its default. Never raises."""
    store = store if store is not None else open_store()
    defaults = Settings()
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for name, (key, _) in _JSON_FIELDS.items():
        try:
            raw[name] = _read_raw(store, key)
        except Exception:  # noqa: BLE001 - a missing or mangled key is not an error: its default applies
            pass
    version = _stored_version(store)
    while version < SCHEMA_VERSION:
        if version in MIGRATIONS:
            try:
                raw = MIGRATIONS[version](dict(raw))
            except Exception:  # noqa: BLE001 - a failed migration leaves the keys to their checkers
                log.warning("settings: migration from version %d failed", version, exc_info=True)
        version += 1
    for name, (key, check) in _JSON_FIELDS.items():
        if name not in raw:
            continue
        try:
            values[name] = check(raw[name])
        except (TypeError, ValueError, ArithmeticError, RecursionError) as e:
            log.info("settings: %s ignored (%s); using the default", key, e)
    for name, key in _BYTES_FIELDS.items():
        try:
            v = store.value(key)
        except Exception:  # noqa: BLE001
            continue
        if isinstance(v, QByteArray):
            values[name] = bytes(v.data())
    return dataclasses.replace(defaults, **values)


def _plain(o):
    if hasattr(o, "tolist"):  # numpy scalars and arrays
        return o.tolist()
    raise TypeError(f"cannot store a value of type {type(o).__name__}")


def save(settings: Settings, store: QSettings | None = None) -> bool:
    """Write ``settings`` (and the schema version); return whether the store was written without error."""
    store = store if store is not None else open_store()
    store.setValue(VERSION_KEY, json.dumps(SCHEMA_VERSION))
    for name, (key, _) in _JSON_FIELDS.items():
        value = getattr(settings, name)
        if isinstance(value, tuple):
            value = list(value)
        try:
            store.setValue(key, json.dumps(value, allow_nan=False, default=_plain))
        except (TypeError, ValueError) as e:  # e.g. NaN: keep what the store had rather than write garbage
            log.warning("settings: %s not saved (%s)", key, e)
    for name, key in _BYTES_FIELDS.items():
        store.setValue(key, QByteArray(bytes(getattr(settings, name))))
    store.sync()
    # A store read from a mangled file reports FormatError even after it was rewritten; only access fails.
    ok = store.status() != QSettings.Status.AccessError
    if not ok:
        log.warning("settings: could not write %s (%s)", store.fileName(), store.status())
    return ok


__all__ = ["MAX_RECENT", "MIGRATIONS", "SCHEMA_VERSION", "Settings", "load", "open_store", "save"]
