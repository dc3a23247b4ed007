"""Datasets: scikit-learn's bundled ones, IDX and CSV files written by the tests themselves, splits."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.data import DataError, load_dataset, read_csv_dataset, read_idx


def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder, n=7, gz=False, truncate=0):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n, 4, 3)).astype(np.uint8)
    labels = (np.arange(n) % 3).astype(np.uint8)
    for name, arr in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if truncate and name.startswith("train-images"):
            data = data[:-truncate]
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(data) if gz else data)
    return images, labels


def test_digits_default_scaled_to_unit_interval():
    ds = load_dataset()
    assert ds.name == "digits" and ds.X_train.shape == (1797, 64) and ds.n_classes == 10
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0 and ds.image_shape == (8, 8)
    assert not ds.standardized and len(ds.y_val) == 0


@pytest.mark.parametrize("name, shape", [("iris", (150, 4)), ("wine", (178, 13)), ("breast-cancer", (569, 30))])
def test_tables_standardised_by_default(name, shape):
    ds = load_dataset(name)
    assert ds.X_train.shape == shape and ds.standardized
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1, atol=1e-12)
    raw = load_dataset(name, standardize=False)
    assert not np.allclose(raw.X_train.mean(axis=0), 0)


def test_validation_split_is_seeded_and_disjoint():
    a = load_dataset("iris", val=0.2, seed=3)
    b = load_dataset("iris", val=0.2, seed=3)
    c = load_dataset("iris", val=0.2, seed=4)
    assert len(a.y_val) == 30 and len(a.y_train) == 120
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.X_val, c.X_val)
    raw = load_dataset("iris", standardize=False).X_train
    both = np.vstack([load_dataset("iris", val=0.2, seed=3, standardize=False).X_train,
                      load_dataset("iris", val=0.2, seed=3, standardize=False).X_val])
    assert sorted(map(tuple, both)) == sorted(map(tuple, raw))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        load_dataset("iris", val=1.0)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_and_single_file(tmp_path, gz):
    images, labels = write_mnist(tmp_path, gz=gz)
    for spec in (tmp_path, tmp_path / ("train-labels-idx1-ubyte" + (".gz" if gz else ""))):
        ds = load_dataset(str(spec))
        assert ds.X_train.shape == (7, 12) and ds.image_shape == (4, 3)
        np.testing.assert_array_equal(ds.X_train, images.reshape(7, -1) / 255.0)
        np.testing.assert_array_equal(ds.y_train, labels)


def test_idx_truncated_or_bad(tmp_path):
    write_mnist(tmp_path, truncate=5)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: truncated: 79 data bytes, the header announces 84"):
        load_dataset(str(tmp_path))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04junk")
    (bad / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataError, match="not an IDX file"):
        load_dataset(str(bad))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no train-images-idx3-ubyte"):
        load_dataset(str(empty))
    (bad / "broken.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError, match="broken.gz: broken gzip"):
        read_idx(bad / "broken.gz")


def test_idx_labels_and_images_disagree(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataError, match="5 labels for 7 images"):
        load_dataset(str(tmp_path))


def test_csv_with_and_without_header(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("f1,label,f2\n1,cat,2\n3,dog,4\n5,cat,6\n")
    X, y, classes = read_csv_dataset(a)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 0])
    assert classes == ("cat", "dog")
    b = tmp_path / "b.csv"
    b.write_text("0.5,1.5,2\n1.5,2.5,0\n")
    X, y, classes = read_csv_dataset(b)
    np.testing.assert_array_equal(X, [[0.5, 1.5], [1.5, 2.5]])
    assert classes == ("0", "2") and list(y) == [1, 0]
    ds = load_dataset(str(b))
    assert ds.standardized and ds.name == "b.csv"


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("a,b,label\n", "a header but no data rows"),
    ("1,2,0\n3,x,1\n", "line 2: 'x' is not a number"),
    ("1,2,0\n3,1\n", "line 2: 2 fields, expected 3"),
    ("1,2,0\n3,4,0\n", "a single class"),
    ("1,nan,0\n3,4,1\n", "non-finite"),
])
def test_csv_errors_name_the_file(tmp_path, text, message):
    p = tmp_path / "d.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message) as e:
        load_dataset(str(p))
    assert str(p) in str(e.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.integers(0, 3)), min_size=2, max_size=20),
       st.booleans())
def test_csv_round_trip(tmp_path_factory, rows, header):
    ys = [r[2] for r in rows]
    if len(set(ys)) < 2:
        return
    p = tmp_path_factory.mktemp("csv") / "r.csv"
    lines = (["x1,x2,y"] if header else []) + [f"{a!r},{b!r},{c}" for a, b, c in rows]
    p.write_text("\n".join(lines) + "\n")
    X, y, classes = read_csv_dataset(p)
    np.testing.assert_array_equal(X, [[a, b] for a, b, _ in rows])
    assert [int(float(classes[i])) for i in y] == ys
