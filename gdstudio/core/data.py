"""Datasets for the models: scikit-learn's bundled ones, MNIST-style IDX files and CSV files.

A :class:`Dataset` holds a training part and a validation part (features ``X`` as float64 of shape
``(n, D)``, integer labels ``y`` in ``0..C-1``), the class names, and, for images, the shape of one
image (so a linear model's weights can be shown as class templates).

Sources (``load_dataset(spec)``)

``digits`` (default)  scikit-learn's 8×8 digits (1,797 images, 10 classes), features ``data / 16`` in [0, 1]
``iris``, ``wine``, ``breast-cancer``  scikit-learn's bundled tables, standardised by default
a folder or one IDX file   MNIST / Fashion-MNIST in IDX format (``.gz`` or raw): the training pair
                           ``train-images-idx3-ubyte`` + ``train-labels-idx1-ubyte`` is used (features / 255)
a ``.csv`` file            numeric feature columns and a label column: the column named ``label``, ``class``,
                           ``target`` or ``y`` when there is a header, else the last one; header optional

Standardising (``standardize=True``) subtracts the training part's column means and divides by its column
standard deviations (columns with zero spread are left centred), the same map applied to the validation part.
The validation split (``val`` = a fraction in [0, 1)) takes ``round(val · n)`` samples chosen by a permutation
from ``numpy.random.default_rng(seed)``; both parts keep the file's order. ``val = 0`` trains on everything.

Any problem with a file (missing, truncated, wrong magic number, non-numeric cell...) raises
:class:`DataError` with one message naming the file and the problem; nothing is half-loaded.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Built-in datasets (scikit-learn's bundled files: no download).
BUILTIN_DATASETS = ("digits", "iris", "wine", "breast-cancer")

#: The IDX files of the MNIST training set (with or without ``.gz``; a dot may replace the last dash).
IDX_TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_LABEL_NAMES = ("label", "class", "target", "y")


class DataError(ValueError):
    """A dataset could not be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class Dataset:
    """Features and labels split into training and validation parts."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    classes: tuple[str, ...]
    image_shape: tuple[int, ...] | None = None
    standardized: bool = False
    notes: str = field(default="", compare=False)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> str:
        return (f"{self.name}: {len(self.y_train)} training + {len(self.y_val)} validation samples, "
                f"{self.n_features} features, {self.n_classes} classes")


# --- scikit-learn ----------------------------------------------------------------------------------
def _sklearn(name: str):
    from sklearn import datasets as skd  # imported lazily: scikit-learn takes ~0.5 s to import

    loader = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine,
              "breast-cancer": skd.load_breast_cancer}[name]
    b = loader()
    X = np.asarray(b.data, dtype=float)
    y = np.asarray(b.target, dtype=np.int64)
    if name == "digits":
        return X / 16.0, y, tuple(str(c) for c in b.target_names), (8, 8)
    return X, y, tuple(str(c) for c in b.target_names), None


# --- IDX --------------------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, ValueError) as e:
            raise DataError(f"{path}: broken gzip data ({e})") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (raw or gzip): magic ``00 00 TT NN``, ``NN`` big-endian uint32 sizes, then the data."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    need = int(np.prod(shape)) * dtype.itemsize
    have = len(raw) - 4 - 4 * ndim
    if have < need:
        raise DataError(f"{path}: truncated: {have} data bytes, the header announces {need} for shape {shape}")
    if have > need:
        raise DataError(f"{path}: {have - need} bytes after the data the header announces (shape {shape})")
    return np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path:
    variants = [stem, stem[::-1].replace("-", ".", 1)[::-1]]  # train-images-idx3-ubyte / train-images.idx3-ubyte
    for v in variants:
        for suffix in ("", ".gz"):
            p = folder / (v + suffix)
            if p.is_file():
                return p
    raise DataError(f"{folder}: no {stem} (or {stem}.gz) in this folder: an IDX dataset needs "
                    f"{IDX_TRAIN[0]} and {IDX_TRAIN[1]}")


def _load_idx(folder: Path):
    images_path, labels_path = (_find_idx(folder, s) for s in IDX_TRAIN)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim < 2:
        raise DataError(f"{images_path}: expected images (at least 2 dimensions), got shape {images.shape}")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected labels (1 dimension), got shape {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path.name}")
    X = images.reshape(len(images), -1).astype(float)
    if images.dtype == np.uint8:
        X /= 255.0
    y_raw = labels.astype(np.int64)
    values = np.unique(y_raw)
    y = np.searchsorted(values, y_raw)
    return X, y, tuple(str(v) for v in values), tuple(images.shape[1:]) if images.ndim == 3 else None


# --- CSV --------------------------------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_csv_dataset(path: str | os.PathLike):
    """Read a CSV of numeric features and a label column; return ``(X, y, classes)``.

    The header is optional (a first row with a non-numeric cell is a header). The label column is the one
    named ``label``/``class``/``target``/``y`` (any case) when the header has one, else the last column.
    Labels may be numbers or text; classes are their sorted distinct values.
    """
    path = Path(path)
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty file")
    header = None
    label_col = len(rows[0]) - 1
    if not all(_is_number(c) for c in rows[0]):
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
        for i, name in enumerate(header):
            if name.lower() in _LABEL_NAMES:
                label_col = i
                break
    if not rows:
        raise DataError(f"{path}: a header but no data rows")
    width = len(header) if header else len(rows[0])
    if width < 2:
        raise DataError(f"{path}: needs at least one feature column and a label column")
    labels, feats = [], []
    for line, r in enumerate(rows, start=2 if header else 1):
        if len(r) != width:
            raise DataError(f"{path}: line {line}: {len(r)} fields, expected {width}")
        labels.append(r[label_col].strip())
        try:
            feats.append([float(c) for i, c in enumerate(r) if i != label_col])
        except ValueError:
            bad = next(c for i, c in enumerate(r) if i != label_col and not _is_number(c))
            raise DataError(f"{path}: line {line}: {bad!r} is not a number") from None
    X = np.asarray(feats, dtype=float)
    if not np.all(np.isfinite(X)):
        raise DataError(f"{path}: non-finite feature values (nan or inf)")
    if all(_is_number(v) for v in labels):
        nums = np.asarray([float(v) for v in labels])
        values = np.unique(nums)
        y = np.searchsorted(values, nums)
        classes = tuple(f"{v:g}" for v in values)
    else:
        values = sorted(set(labels))
        index = {v: i for i, v in enumerate(values)}
        y = np.asarray([index[v] for v in labels])
        classes = tuple(values)
    if len(classes) < 2:
        raise DataError(f"{path}: the label column has a single class ({classes[0]!r}); a classifier needs two")
    return X, y.astype(np.int64), classes


# --- the entry point --------------------------------------------------------------------------------
def _split(n: int, val: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n_val = int(round(val * n))
    if n_val and n - n_val < 1:
        raise ValueError(f"--val {val} leaves no training samples")
    perm = np.random.default_rng(seed).permutation(n)
    val_idx = np.sort(perm[:n_val])
    train_idx = np.sort(perm[n_val:])
    return train_idx, val_idx


def load_dataset(spec: str = "digits", val: float = 0.0, seed: int = 0,
                 standardize: bool | None = None) -> Dataset:
    """Load a dataset by name or path and split it (see the module docstring).

    ``standardize=None`` means: off for images (digits, IDX), on for tables (iris, wine, breast-cancer, CSV).
    Raises :class:`DataError` for a file problem, ``ValueError`` for a bad name or option.
    """
    if not (0.0 <= val < 1.0):
        raise ValueError(f"the validation fraction must be in [0, 1), got {val}")
    if spec in BUILTIN_DATASETS:
        X, y, classes, image_shape = _sklearn(spec)
        name = spec
    else:
        path = Path(spec)
        if not path.exists():
            raise ValueError(f"unknown dataset {spec!r} (valid: {', '.join(BUILTIN_DATASETS)}, "
                             f"a CSV file or a folder of MNIST IDX files)")
        name = path.name
        if path.is_dir():
            X, y, classes, image_shape = _load_idx(path)
        elif path.suffix.lower() == ".csv":
            X, y, classes = read_csv_dataset(path)
            image_shape = None
        else:
            X, y, classes, image_shape = _load_idx(path.parent)
            name = path.parent.name
    if standardize is None:
        standardize = image_shape is None
    train_idx, val_idx = _split(len(y), val, seed)
    if len(val_idx):
        Xt, Xv = X[train_idx], X[val_idx]
    else:  # no copy of a large X (MNIST: 60,000 × 784 floats = 376 MB)
        Xt, Xv = X, X[:0]
    if standardize:
        mu = Xt.mean(axis=0)
        sd = Xt.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        Xt, Xv = (Xt - mu) / sd, (Xv - mu) / sd
    return Dataset(name, np.ascontiguousarray(Xt), y[train_idx], np.ascontiguousarray(Xv), y[val_idx],
                   classes, image_shape, bool(standardize))
