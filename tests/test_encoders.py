import numpy as np
import pytest
import torch

from snnsuite.encoders import BernoulliEncoder, DirectEncoder, make_encoder
from snnsuite.errors import SuiteError

INTENSITIES = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0], dtype=np.float32)


def test_bernoulli_rate_equals_intensity_numpy():
    spikes = BernoulliEncoder(200_000)(INTENSITIES, np.random.default_rng(0))
    assert set(np.unique(spikes)) <= {0.0, 1.0}
    np.testing.assert_allclose(spikes.mean(0), INTENSITIES, atol=0.01)


def test_bernoulli_rate_equals_intensity_torch():
    spikes = BernoulliEncoder(200_000)(torch.from_numpy(INTENSITIES), torch.Generator().manual_seed(0))
    np.testing.assert_allclose(spikes.mean(0).numpy(), INTENSITIES, atol=0.01)


def test_encoders_are_deterministic_given_a_seed():
    enc = BernoulliEncoder(16)
    images = np.random.default_rng(1).random((4, 28, 28), dtype=np.float32)
    a = enc(images, np.random.default_rng(7))
    b = enc(images, np.random.default_rng(7))
    assert a.shape == (16, 4, 28, 28)
    np.testing.assert_array_equal(a, b)
    t = torch.from_numpy(images)
    np.testing.assert_array_equal(enc(t, torch.Generator().manual_seed(3)), enc(t, torch.Generator().manual_seed(3)))


def test_direct_repeats_the_image_without_copies():
    images = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = DirectEncoder(5)(images)
    assert out.shape == (5, 2, 3) and np.all(out == images)
    out_t = DirectEncoder(5)(torch.from_numpy(images))
    assert out_t.stride(0) == 0


@pytest.mark.parametrize("steps", [0, -1, 2.5])
def test_invalid_step_counts(steps):
    with pytest.raises(SuiteError, match="time steps"):
        BernoulliEncoder(steps)


def test_unknown_encoding():
    with pytest.raises(SuiteError, match="encoding 'poisson2'"):
        make_encoder("poisson2", 4)
