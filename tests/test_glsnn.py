"""GLSNN: the Brian2 network against its independent torch twin, both readings of Eq. 3, the
input drawn inside the network, and bad input."""
import numpy as np
import pytest
import torch

from bio.glsnn import GLSNNConfig, GLSNNLearner
from bio.glsnn.learner import initial_state
from bio.glsnn.learning import SilentLayerGuard, optimizer_state
from hybrid.glsnn_twin import GLSNNTwin
from snnsuite.errors import DivergenceError, SuiteError

BASE = dict(hidden=(24, 16), chunk_samples=20, batch_size=10, feedback_bias_scale=0.01)


def _params(config, gain):
    """The orthogonal initialisation scaled so that the hidden layers spike and delta_i matters."""
    params = initial_state(config)
    for key in ("W1", "W2", "W3"):
        params[key] = params[key] * gain
    return {**params, **optimizer_state(config, params)}


def _twin_steps(twin, spikes, labels):
    """The twin through the Brian2 learner's chunk: two batches of 10, Eq. 8 between them."""
    scores, counts = [], np.zeros(3)
    for b in (0, 10):
        reads, factors, layer_counts = twin.forward(spikes[:, b:b + 10])
        scores.append(reads[-1].numpy())
        counts += layer_counts
        twin.update(reads, twin.learning_signals(reads, factors, torch.from_numpy(labels[b:b + 10])))
    return np.concatenate(scores), counts


def _assert_same_run(brian, twin, params, scores, counts, twin_scores, twin_counts):
    np.testing.assert_array_equal(counts, twin_counts)
    assert counts[0] > 0 and counts[1] > 0
    np.testing.assert_allclose(scores, twin_scores, rtol=1e-9, atol=1e-12)
    for key in ("W1", "W2", "W3"):
        moved = twin.state()[key] - params[key]
        assert np.abs(moved).max() > 0, key
        # Adam turns a gradient that is 0 in one summation order and 1e-20 in the other into a step
        # of up to 1e-11: absolute tolerance 1e-10, far below the 0.01 steps that were taken.
        np.testing.assert_allclose(brian.state()[key] - params[key], moved, rtol=1e-7, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("values, gain", [
    (dict(reading="printed", readout="mean"), 8.0),
    pytest.param(dict(reading="printed", readout="last"), 8.0, marks=pytest.mark.slow),
    (dict(reading="spiking", output_readout="conductance"), 30.0),
    (dict(reading="spiking", output_readout="rate", optimizer="adam", eta_w=0.01), 30.0),
    (dict(reading="spiking", conductance_step="updated"), 30.0),
])
def test_brian2_network_equals_the_torch_twin_on_shipped_spikes(mnist, values, gain):
    config = GLSNNConfig.from_dict({**BASE, **values, "input_spikes": "encoder"})
    params = _params(config, gain)
    images, labels = mnist.train.images[:20].reshape(20, -1), mnist.train.labels[:20]

    brian = GLSNNLearner(config)
    brian.load_state(params)
    scores, counts = brian.present(images, labels, np.random.default_rng(5), learn=True)

    twin = GLSNNTwin(config, params)
    spikes = torch.from_numpy(twin.encoder(images, np.random.default_rng(5)))
    _assert_same_run(brian, twin, params, scores, counts, *_twin_steps(twin, spikes, labels))


def test_direct_encoding_feeds_the_intensity_as_S0_on_both_engines(mnist):
    config = GLSNNConfig.from_dict({**BASE, "encoding": "direct", "reading": "spiking"})
    params = _params(config, 30.0)
    images, labels = mnist.train.images[:20].reshape(20, -1), mnist.train.labels[:20]
    brian = GLSNNLearner(config)
    brian.load_state(params)
    scores, counts = brian.present(images, labels, np.random.default_rng(0), learn=True)

    twin = GLSNNTwin(config, params)
    spikes = torch.from_numpy(np.ascontiguousarray(twin.encoder(images)))   # the intensity at every step
    _assert_same_run(brian, twin, params, scores, counts, *_twin_steps(twin, spikes, labels))


@pytest.fixture(scope="module")
def in_network(mnist):
    """A learner whose Bernoulli input spikes are drawn inside the compiled network."""
    config = GLSNNConfig.from_dict({**BASE, "reading": "spiking"})
    brian = GLSNNLearner(config)
    return config, brian


def test_in_network_bernoulli_of_binary_images_equals_the_twin(mnist, in_network):
    # Intensities 0 and 1 make the Bernoulli draw certain, so both engines see the same spikes.
    config, brian = in_network
    params = _params(config, 30.0)
    images = (mnist.train.images[:20].reshape(20, -1) > 0.5).astype(float)
    labels = mnist.train.labels[:20]
    brian.load_state(params)
    scores, counts = brian.present(images, labels, np.random.default_rng(0), learn=True)
    twin = GLSNNTwin(config, params)
    spikes = torch.from_numpy(np.repeat(images[None], 10, axis=0))
    _assert_same_run(brian, twin, params, scores, counts, *_twin_steps(twin, spikes, labels))


def test_in_network_bernoulli_spikes_at_the_intensity_and_draws_anew_each_launch(in_network):
    config, brian = in_network
    brian.load_state(_params(config, 1.0))
    relays = brian.engine.network["relays"]
    rates = []
    for launch in range(2):
        brian.present(np.full((20, 784), 0.3), np.zeros(20, int), np.random.default_rng(launch), learn=False)
        # S_hist_k of the relays: the mean spike rate of the input during the batch's k-th sample
        rates.append(np.stack([np.asarray(getattr(relays, f"S_hist_{k}")[:]) for k in range(10)]))
    # 78,400 Bernoulli(0.3) draws per launch: the standard error of their mean is 0.0016.
    for r in rates:
        assert abs(r.mean() - 0.3) < 0.01
    assert not np.array_equal(rates[0], rates[1])


@pytest.mark.parametrize("conductance_step, first_spike_step", [("previous", lambda l: l + 1), ("updated", lambda l: 1)])
def test_conductance_step_sets_the_delay_of_each_layer(conductance_step, first_spike_step):
    """Driven hard, a neuron fires at every step from its first. Eq. 3 line 1 with g_E(t) sees the
    input a step late in every layer, so layer l first fires at step l + 1 and the output of nine
    hidden layers never fires within T = 10; with g_E(t+1) every layer fires from step 1."""
    config = GLSNNConfig.from_dict({"hidden": (4,) * 9, "reading": "spiking", "conductance_step": conductance_step,
                                    "device": "torch"})
    params = {k: np.full_like(v, 100.0) if k.startswith("W") else v for k, v in initial_state(config).items()}
    _, _, counts = GLSNNTwin(config, params).forward(torch.ones(10, 1, 784, dtype=torch.float64))
    steps = 10
    expected = [max(0, steps - first_spike_step(l) + 1) * n for l, n in enumerate(config.layer_sizes[1:], start=1)]
    assert counts == expected


def test_calibration_puts_every_layer_in_the_rate_range(mnist):
    config = GLSNNConfig.from_dict({**BASE, "reading": "spiking", "output_readout": "rate", "init_rate_range": (0.1, 0.15),
                                    "device": "torch"})
    twin = GLSNNTwin(config, initial_state(config))
    images = mnist.train.images[:200].reshape(200, -1)
    reached = twin.calibrate(images, np.random.default_rng(0))
    assert all(0.1 <= r <= 0.15 for r in reached) and len(reached) == 3
    # Fresh input spikes: the rates hold within the noise of a new draw.
    _, _, counts = twin.forward(torch.from_numpy(twin.encoder(images, np.random.default_rng(1))))
    rates = np.array(counts) / (np.array(config.layer_sizes[1:]) * 200 * 10)
    assert np.all((rates > 0.08) & (rates < 0.17)), rates


def test_a_silent_layer_stops_training_with_a_message_naming_it(mnist):
    config = GLSNNConfig.from_dict({**BASE, "reading": "spiking", "device": "torch", "silent_patience": 40})
    params = _params(config, 30.0)
    params["W2"] = np.zeros_like(params["W2"])   # layer 2 gets no input: it never spikes
    twin = GLSNNTwin(config, {**params, "init_rates": np.zeros(2)})
    with pytest.raises(DivergenceError, match=r"hidden layer 2: mean spike rate 0\.0000 .* 40 training samples"):
        twin.train_epoch(mnist.train.head(100), np.random.default_rng(0), lambda it, **_: it)


def test_silent_layer_guard_counts_consecutive_silent_samples():
    config = GLSNNConfig.from_dict({**BASE, "silent_rate": 0.01, "silent_patience": 30, "device": "torch"})
    guard = SilentLayerGuard(config)
    guard.observe([0.0, 0.2, 0.0], 20)
    guard.observe([0.5, 0.2, 0.0], 20)      # layer 1 recovered: its count restarts; the output is not guarded
    guard.observe([0.0, 0.2, 0.0], 20)
    with pytest.raises(DivergenceError, match="hidden layer 1"):
        guard.observe([0.001, 0.2, 0.0], 10)


@pytest.mark.parametrize("values, needle", [
    (dict(hidden=()), "at least one hidden layer"),
    (dict(chunk_samples=15), "multiple of batch_size"),
    (dict(eta_w=float("inf")), "eta_w=inf"),
    (dict(readout="max"), "readout 'max'"),
    (dict(reading="literal"), "reading 'literal'"),
    (dict(init_rate_range=(0.3, 0.1)), r"init_rate_range=\(0.3, 0.1\)"),
    (dict(init_rate_range=(0.0, 0.1)), "init_rate_range"),
    (dict(silent_rate=0.0), "silent_rate=0.0: must be > 0"),
    (dict(optimizer="rmsprop"), "optimizer 'rmsprop'"),
    (dict(encoding="direct", input_spikes="encoder"), "input_spikes 'encoder'"),
    (dict(device="tpu"), "device 'tpu'"),
])
def test_bad_config_fails_before_any_build(values, needle):
    with pytest.raises(SuiteError, match=needle):
        GLSNNConfig.from_dict(values)


@pytest.mark.slow
def test_feedback_ablation_freezes_the_layers_without_feedback(mnist):
    config = GLSNNConfig.from_dict({**BASE, "reading": "printed", "input_spikes": "encoder", "feedback_layers": 0})
    brian = GLSNNLearner(config)
    params = _params(config, 8.0)
    brian.load_state(params)
    brian.present(mnist.train.images[:20].reshape(20, -1), mnist.train.labels[:20], np.random.default_rng(0), learn=True)
    after = brian.state()
    np.testing.assert_array_equal(after["W1"], params["W1"])  # below the penultimate, no feedback: frozen
    assert not np.array_equal(after["W2"], params["W2"]) and not np.array_equal(after["W3"], params["W3"])
