"""GLSNN: the Brian2 network against its independent torch twin, and its bad-input handling."""
import numpy as np
import pytest
import torch

from bio.glsnn import GLSNNConfig, GLSNNLearner
from bio.glsnn.learner import initial_state
from hybrid.glsnn_twin import GLSNNTwin
from snnsuite.errors import SuiteError

# Weights 5x the orthogonal initialisation make the hidden layers spike, so delta_i matters.
CONFIG = GLSNNConfig.from_dict(dict(hidden=(24, 16), chunk_samples=20, batch_size=10, feedback_bias_scale=0.01))


def _params():
    params = initial_state(CONFIG)
    for key in ("W1", "W2"):
        params[key] = params[key] * 8
    return params


@pytest.mark.parametrize("readout", ["mean", "last"])
def test_brian2_network_equals_the_torch_twin(mnist, readout):
    config = GLSNNConfig.from_dict({**CONFIG.to_dict(), "readout": readout})
    images = mnist.train.images[:20].reshape(20, -1)
    labels = mnist.train.labels[:20]

    brian = GLSNNLearner(config)
    brian.load_state(_params())
    scores, spike_count = brian.present(images, labels, np.random.default_rng(5), learn=True)

    twin = GLSNNTwin(config, _params())
    spikes = torch.from_numpy(twin.encoder(images, np.random.default_rng(5)))
    twin_scores, twin_count = [], 0
    for b in (0, 10):  # two batches of 10: Eq. 8 applies between them
        reads, count = twin.forward(spikes[:, b:b + 10])
        twin_scores.append(reads[-1].numpy())
        twin_count += count
        twin.update(reads, twin.learning_signals(reads, torch.from_numpy(labels[b:b + 10])))

    assert spike_count == twin_count > 0
    np.testing.assert_allclose(scores, np.concatenate(twin_scores), rtol=1e-9, atol=1e-12)
    for key in ("W1", "W2", "W3"):
        moved = twin.state()[key] - _params()[key]
        assert np.abs(moved).max() > 0
        np.testing.assert_allclose(brian.state()[key], twin.state()[key], rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("values, needle", [
    (dict(hidden=()), "at least one hidden layer"),
    (dict(chunk_samples=15), "multiple of batch_size"),
    (dict(eta_w=float("inf")), "eta_w=inf"),
    (dict(readout="max"), "readout 'max'"),
    (dict(device="tpu"), "device 'tpu'"),
])
def test_bad_config_fails_before_any_build(values, needle):
    with pytest.raises(SuiteError, match=needle):
        GLSNNConfig.from_dict(values)


def test_feedback_ablation_freezes_the_layers_without_feedback(mnist):
    config = GLSNNConfig.from_dict({**CONFIG.to_dict(), "feedback_layers": 0})
    brian = GLSNNLearner(config)
    brian.load_state(_params())
    brian.present(mnist.train.images[:20].reshape(20, -1), mnist.train.labels[:20], np.random.default_rng(0), learn=True)
    after = brian.state()
    np.testing.assert_array_equal(after["W1"], _params()["W1"])  # below the penultimate, no feedback: frozen
    assert not np.array_equal(after["W2"], _params()["W2"]) and not np.array_equal(after["W3"], _params()["W3"])
