"""Balanced SNN: each switch does what it names, the rules against independent forms, bad input."""
import numpy as np
import pytest
from brian2 import StateMonitor, ms

from bio import synapses
from bio.balanced import BalancedConfig, BalancedLearner, rules
from bio.balanced import network as balanced_network
from bio.balanced.learner import initial_state
from bio.engine import ChunkEngine
from bio.parameters import STD
from snnsuite.errors import DivergenceError, SuiteError

SMALL = dict(hidden=20, batch_size=10, presentation_ms=20.0)


def _input_jumps(stp):
    """I_syn jumps of one hidden neuron driven by relay 0 spiking every 5 ms (runtime device)."""
    config = BalancedConfig.from_dict(dict(hidden=1, inhibitory_fraction=0.0, batch_size=1, presentation_ms=100.0, stp=stp))
    engine = ChunkEngine("runtime", lambda n: balanced_network.build(config, n), 1, 100 * ms, "test-stp",
                         runtime_target="numpy")
    hidden = engine.handles["hidden"]
    monitor = StateMonitor(hidden, "I_syn", record=0, name="i_syn_probe")
    engine.network.add(monitor)
    spikes = np.zeros((config.steps, 784))
    spike_steps = np.arange(0, config.steps - 1, 10)
    spikes[spike_steps, 0] = 1
    w = np.zeros(784)
    w[0] = 1.0
    engine.run({engine.handles["stimulus"]: spikes, engine.handles["w_in"].w: w,
                engine.handles["w_out"].w: np.zeros(10)})
    current = np.asarray(monitor.I_syn[0])
    decay = 1 - config.dt_ms / 5.0   # Euler step of dI/dt = -I / tau_syn (tau_syn = 5 ms)
    jumps = current[spike_steps + 1] - current[spike_steps] * decay
    return jumps / (config.stp_amplitude_pA * 1e-12), spike_steps * config.dt_ms * 1e-3


def test_without_stp_every_spike_has_the_same_efficacy():
    efficacy, _ = _input_jumps(None)
    np.testing.assert_allclose(efficacy, efficacy[0], rtol=1e-9)
    assert efficacy[0] > 0


def test_std_efficacy_follows_tsodyks_markram():
    """Eq. 7-8 iterated by hand: u jumps by U(1-u), the spike uses u x, then x drops by u x."""
    efficacy, times = _input_jumps("std")
    u, x, last, expected = 0.0, 1.0, None, []
    for t in times:
        if last is not None:
            u *= np.exp(-(t - last) / float(STD.tau_f))
            x = 1 - (1 - x) * np.exp(-(t - last) / float(STD.tau_d))
        u += STD.U * (1 - u)
        expected.append(u * x)
        x -= u * x
        last = t
    np.testing.assert_allclose(efficacy, expected, rtol=1e-6)
    assert efficacy[-1] < 0.5 * efficacy[0]   # depression


def test_eq5_denominator_sums_match_the_membrane_trace():
    """The per-sample sums that Eq. 5 divides by, recomputed from recorded v, g_E, g_I and I_syn:
    'printed' holds the leak and excitatory terms alone, 'full' all of Eq. 1's right-hand side."""
    config = BalancedConfig.from_dict(dict(hidden=4, inhibitory_fraction=0.5, batch_size=1, presentation_ms=40.0))
    engine = ChunkEngine("runtime", lambda n: balanced_network.build(config, n), 1, 40 * ms, "test-eq5",
                         runtime_target="numpy")
    layers = {name: engine.handles[name] for name in ("hidden", "output")}
    monitors = {name: StateMonitor(group, ["v", "g_E", "g_I", "I_syn"], record=True, when="end", order=1, name=f"{name}_trace")
                for name, group in layers.items()}
    engine.network.add(*monitors.values())
    rng = np.random.default_rng(4)
    state = initial_state(config)
    engine.run({engine.handles["stimulus"]: (rng.random((config.steps, 784)) < 0.1).astype(float),
                engine.handles["w_in"].w: 10 * np.abs(state["w_in"]).ravel(), engine.handles["w_out"].w: state["w_out"].ravel()})
    lif = balanced_network.LIF
    scale = float(lif.V_th - lif.V_L)
    for name, group in layers.items():
        m = monitors[name]
        v, g_e, g_i, i_syn = (np.asarray(getattr(m, k)) for k in ("v", "g_E", "g_I", "I_syn"))
        g_l = float(lif.g_L)
        printed = (-(v - float(lif.V_L)) - g_e / g_l * (v - float(lif.V_E))) / scale
        full = printed + (-g_i / g_l * (v - float(lif.V_I)) + i_syn / g_l) / scale
        np.testing.assert_allclose(group.printed_drive_sum[:], printed.sum(1), rtol=1e-9, err_msg=name)
        np.testing.assert_allclose(group.drive_sum[:], full.sum(1), rtol=1e-9, err_msg=name)
    assert np.asarray(monitors["output"].g_E).max() > 0 and np.asarray(monitors["hidden"].I_syn).max() > 0   # every term in play


@pytest.mark.parametrize("fraction", [pytest.param(0.0, marks=pytest.mark.slow), 0.3])
def test_inhibitory_share_and_signs_hold_before_and_after_training(mnist, fraction):
    config = BalancedConfig.from_dict(dict(SMALL, inhibitory_fraction=fraction, eta_stdp=0.3))
    learner = BalancedLearner(config)
    before = learner.state()
    images, labels = mnist.train.images[:30].reshape(30, -1), mnist.train.labels[:30]
    for start in range(0, 30, 10):
        learner.learn(*learner.present(images[start:start + 10], labels[start:start + 10], np.random.default_rng(start))[:4])
    after = learner.state()
    inhibitory = before["excitatory"] == 0
    assert inhibitory.sum() == round(fraction * config.hidden)
    for state in (before, after):
        assert np.all(state["w_out"][inhibitory] <= 0) and np.all(state["w_out"][~inhibitory] >= 0)
        assert np.all(np.sign(state["w_in"]) == np.sign(before["w_in"]))
    assert np.abs(after["w_out"] - before["w_out"]).max() > 0   # it did learn


def test_same_seed_same_weights_and_teacher_spikes_at_the_label_only(mnist):
    """Every spike, the teacher's included, comes from the seeded generator: two learners trained on
    the same samples end with equal weights."""
    images, labels = mnist.train.images[:20].reshape(20, -1), mnist.train.labels[:20]
    states = []
    for _ in range(2):
        learner = BalancedLearner(BalancedConfig.from_dict(dict(SMALL, eta_stdp=0.3)))
        rng = np.random.default_rng(7)
        for start in (0, 10):
            x, hidden, output, teaching, _ = learner.present(images[start:start + 10], labels[start:start + 10], rng)
            at_label = teaching[np.arange(10), labels[start:start + 10]]
            assert teaching.sum() == at_label.sum() > 0
            learner.learn(x, hidden, output, teaching)
        states.append(learner.state())
    for key in states[0]:
        np.testing.assert_array_equal(states[0][key], states[1][key], err_msg=key)


def test_eq6_never_flips_a_sign_even_for_huge_updates():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(50, 20))
    dw = 100 * rng.normal(size=(50, 20))
    config = BalancedConfig()
    new = rules.apply_type_preserving(w, dw, config)
    assert np.all(np.sign(new) == np.sign(w))
    same_direction = w * dw >= 0
    np.testing.assert_allclose(new[same_direction], (w + config.eta0 * dw)[same_direction])


def test_energy_slope_equals_finite_differences():
    rng = np.random.default_rng(1)
    x, a_h, a_o = rng.uniform(size=(3, 8)), rng.uniform(size=(3, 5)), rng.uniform(size=(3, 4))
    w_in, w_out = rng.normal(size=(8, 5)), rng.normal(size=(5, 4))
    args = (1.3, 0.2)
    slope = rules.energy_slope(rules.imbalance(a_h, x, w_in, *args), rules.imbalance(a_o, a_h, w_out, *args),
                               w_out, args[0], np.ones_like(a_h))
    numeric = np.zeros_like(a_h)
    for index in np.ndindex(a_h.shape):
        step = np.zeros_like(a_h)
        step[index] = 1e-6
        numeric[index] = (rules.energy(x, a_h + step, a_o, w_in, w_out, *args)
                          - rules.energy(x, a_h - step, a_o, w_in, w_out, *args)) / 2e-6
    np.testing.assert_allclose(slope, numeric, rtol=1e-6, atol=1e-8)


def test_mp_balance_steps_drive_the_imbalance_towards_zero():
    """Eq. 5 applied repeatedly to the hidden states of a small fixed network lowers E of Eq. 3."""
    rng = np.random.default_rng(2)
    x, a_h, a_o = rng.uniform(size=(4, 10)), rng.uniform(size=(4, 6)), rng.uniform(size=(4, 3))
    w_in, w_out = 0.3 * rng.normal(size=(10, 6)), 0.3 * rng.normal(size=(6, 3))
    energies = []
    for _ in range(50):
        energies.append(rules.energy(x, a_h, a_o, w_in, w_out, 1.0, 0.0))
        slope = rules.energy_slope(rules.imbalance(a_h, x, w_in, 1.0, 0.0), rules.imbalance(a_o, a_h, w_out, 1.0, 0.0),
                                   w_out, 1.0, np.ones_like(a_h))
        a_h = a_h + rules.mp_balance_step(slope, np.ones_like(a_h), 0.5, 0.2)
    assert np.all(np.diff(energies) < 0)
    assert energies[-1] < 0.5 * energies[0]


def test_integrated_stdp_equals_the_per_sample_rule_of_bio_synapses():
    rng = np.random.default_rng(3)
    before = [rng.uniform(size=(5, 7)), rng.uniform(size=(5, 3))]
    after = [rng.uniform(size=(5, 7)), rng.uniform(size=(5, 3))]
    batch = rules.integrated_stdp(before[0], before[1], after[0], after[1], 0.1)
    per_sample = sum(synapses.integrated_stdp_update(before[0][k], before[1][k], after[0][k], after[1][k], 0.1)
                     for k in range(5)) / 5
    np.testing.assert_allclose(batch, per_sample, rtol=1e-12)


def test_full_supervision_moves_the_output_onto_the_teaching_signal():
    """With eta^c = 1, MP balance off and eta_STDP = 1, Eq. 12 for one sample is a_h (y - a_o)."""
    config = BalancedConfig.from_dict(dict(mp_balance=False, eta_c=1.0, eta_stdp=1.0))
    a_h, a_o, y = np.array([[0.2, 0.0, 0.5]]), np.array([[0.1, 0.7]]), np.array([[1.0, 0.0]])
    states = [rules.LayerStates(a, np.zeros_like(a), np.ones_like(a)) for a in (a_h, a_o)]
    dw_in, dw_out = rules.tuned_updates(np.ones((1, 4)), *states, y, np.zeros((4, 3)), np.zeros((3, 2)), config)
    np.testing.assert_allclose(dw_out, a_h.T @ (y - a_o))
    assert not dw_in.any()


def test_non_finite_update_is_divergence():
    learner = BalancedLearner(BalancedConfig.from_dict(dict(SMALL, feedforward=False)))
    states = rules.LayerStates(np.full((2, 20), np.nan), np.zeros((2, 20)), np.ones((2, 20)))
    output = rules.LayerStates(np.zeros((2, 10)), np.zeros((2, 10)), np.ones((2, 10)))
    with pytest.raises(DivergenceError, match="non-finite"):
        learner.learn(np.ones((2, 784)), states, output, np.zeros((2, 10)))


def test_runaway_rates_are_divergence(mnist):
    """An epoch whose mean output rate passes max_output_rate_hz stops the run; below it, it goes on."""
    split = mnist.train.head(50)
    calm = BalancedLearner(BalancedConfig.from_dict(dict(SMALL, feedforward=False)))
    rate = calm.train_epoch(split, np.random.default_rng(0), lambda it, **_: it)["output_rate_hz"]
    assert rate > 0
    strict = BalancedLearner(BalancedConfig.from_dict(dict(SMALL, feedforward=False, max_output_rate_hz=rate / 2)))
    with pytest.raises(DivergenceError, match="ran away"):
        strict.train_epoch(split, np.random.default_rng(0), lambda it, **_: it)


@pytest.mark.parametrize("values, needle", [
    (dict(inhibitory_fraction=1.5), "inhibitory_fraction=1.5"),
    (dict(inhibitory_fraction=-0.1), "inhibitory_fraction=-0.1"),
    (dict(hidden=1, inhibitory_fraction=0.3), "too small"),
    (dict(stp="xyz"), "stp 'xyz'"),
    (dict(presentation_ms=20.25), "multiple of dt_ms"),
    (dict(max_rate_hz=5000.0), "above one spike per step"),
    (dict(mp_reference="other"), "mp_reference"),
    (dict(eq5_denominator="other"), "eq5_denominator"),
])
def test_bad_config_fails_before_any_build(values, needle):
    with pytest.raises(SuiteError, match=needle):
        BalancedConfig.from_dict(values)


def test_teaching_a_class_that_does_not_exist_is_refused():
    learner = BalancedLearner(BalancedConfig.from_dict(dict(SMALL, feedforward=False)))
    with pytest.raises(SuiteError, match="class 12"):
        learner.present(np.zeros((2, 784)), np.array([3, 12]), np.random.default_rng(0))


def test_initial_state_is_seeded():
    config = BalancedConfig.from_dict(SMALL)
    a, b = initial_state(config), initial_state(config)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_eta_stdp_decay_scales_each_epochs_updates(mnist):
    """Without feed-forward integration no network is built: the schedule is checked on the rules alone."""
    config = BalancedConfig.from_dict(dict(SMALL, feedforward=False, eta_stdp=1e-4, eta_stdp_decay=0.5))
    images, labels = mnist.train.images[:10].reshape(10, -1), mnist.train.labels[:10]
    changes = []
    for epochs_trained in (0, 1, 3):
        learner = BalancedLearner(config)
        learner.params["epochs_trained"] = np.array(epochs_trained)
        before = learner.state()
        learner.learn(*learner.present(images, labels, np.random.default_rng(0))[:4])
        changes.append(learner.params["w_out"] - before["w_out"])
    assert np.abs(changes[0]).max() > 0
    np.testing.assert_allclose(changes[1], 0.5 * changes[0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(changes[2], 0.125 * changes[0], rtol=1e-9, atol=1e-15)
    learner.train_epoch(mnist.train.head(10), np.random.default_rng(1), lambda it, **_: it)
    assert int(learner.state()["epochs_trained"]) == 4
