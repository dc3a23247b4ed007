"""Counter-based random streams: reproducible, independent of how many starts share a run."""

import numpy as np

from gdstudio.core.random import Streams, stream_seeds


def test_row_i_of_n_equals_a_single_stream_with_seed_plus_i():
    many = Streams(stream_seeds(5, 4), step=3)
    draws = many.uniform(2), many.normal(3)
    for i in range(4):
        one = Streams(stream_seeds(5 + i, 1), step=3)
        np.testing.assert_array_equal(one.uniform(2)[0], draws[0][i])
        np.testing.assert_array_equal(one.normal(3)[0], draws[1][i])


def test_take_keeps_the_position():
    s = Streams(stream_seeds(0, 5), step=1)
    s.uniform(1)
    rows = np.array([1, 3])
    np.testing.assert_array_equal(s.take(rows).uniform(2), Streams(stream_seeds(0, 5), 1).uniform(3)[rows][:, 1:])


def test_steps_seeds_and_draws_differ():
    a = Streams(stream_seeds(0, 1), 1).uniform(4)
    assert not np.array_equal(a, Streams(stream_seeds(0, 1), 2).uniform(4))
    assert not np.array_equal(a, Streams(stream_seeds(1, 1), 1).uniform(4))
    s = Streams(stream_seeds(0, 1), 1)
    assert not np.array_equal(s.uniform(4), s.uniform(4))


def test_distributions():
    s = Streams(stream_seeds(42, 20_000), 0)
    u = s.uniform(1).ravel()
    z = s.normal(1).ravel()
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    # neighbouring seeds are not correlated
    a, b = Streams(stream_seeds(0, 2), 0).uniform(5000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05
