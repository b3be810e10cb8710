"""Bio building blocks against closed-form results (runtime device, numpy target: no compile)."""
import numpy as np
import pytest
from brian2 import (Hz, Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, TimedArray,
                    defaultclock, mV, ms, nS, second)

from bio.devices import activate
from bio.neurons import conductance_lif, excitatory_mask, input_relays
from bio.parameters import STD, STF, ConductanceLIFParams, STDPParams, STPParams
from bio.synapses import (integrated_stdp_update, sign_preserving_update, stdp_synapses, stp_steady_state_efficacy,
                          stp_synapses)
from snnsuite.errors import SuiteError

DT = 0.1 * ms


@pytest.fixture(autouse=True)
def runtime_device():
    activate("runtime", runtime_target="numpy")
    defaultclock.dt = DT


def _efficacies(params: STPParams, spike_steps: np.ndarray, n_steps: int, per_presynaptic: bool) -> np.ndarray:
    """The conductance increment of a weight-1 synapse at each presynaptic spike."""
    spikes = np.zeros((n_steps, 1))
    spikes[spike_steps, 0] = 1
    stimulus = TimedArray(spikes, dt=DT)
    pre = input_relays(1, stimulus, mode="spikes", stp=params if per_presynaptic else None)
    post = NeuronGroup(1, "g_E : siemens")
    syn = stp_synapses(pre, post, params, per_presynaptic=per_presynaptic)
    syn.connect()
    syn.w = 1 * nS
    monitor = StateMonitor(post, "g_E", record=0, when="end")
    Network(pre, post, syn, monitor).run(n_steps * DT)
    trace = monitor.g_E[0] / nS
    return np.diff(np.concatenate([[0.0], trace]))[spike_steps]


@pytest.mark.parametrize("params", [STF, STD], ids=["STF", "STD"])
@pytest.mark.parametrize("rate", [5, 20, 50, 100])
def test_stp_steady_state_matches_tsodyks_markram(params, rate):
    interval = int(round(1 / rate / float(DT)))
    spike_steps = np.arange(0, 40 * interval, interval)  # 40 spikes: many tau_f and tau_d
    measured = _efficacies(params, spike_steps, spike_steps[-1] + 2, per_presynaptic=True)
    expected = stp_steady_state_efficacy(rate, params)
    assert measured[0] == pytest.approx(params.U, rel=1e-9)  # first spike: u jumps from 0 to U, x = 1
    assert measured[-1] == pytest.approx(expected, rel=0.01)


def test_per_presynaptic_and_per_synapse_stp_give_identical_currents():
    rng = np.random.default_rng(3)
    spike_steps = np.sort(rng.choice(20_000, 80, replace=False))
    for params in (STF, STD):
        a = _efficacies(params, spike_steps, 20_001, per_presynaptic=True)
        b = _efficacies(params, spike_steps, 20_001, per_presynaptic=False)
        np.testing.assert_allclose(a, b, rtol=1e-9)


def _lif_rate(g_E, params, duration=1 * second, dt=0.05 * ms):
    defaultclock.dt = dt
    group = conductance_lif(1, params, constant_conductances=True)
    group.g_E = g_E
    group.v = params.V_reset
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(duration)
    return monitor.t / second


def test_conductance_lif_rate_matches_closed_form():
    params = ConductanceLIFParams()
    gl, vl, ve = float(params.g_L), float(params.V_L), float(params.V_E)
    for g_E in (4 * nS, 8 * nS, 20 * nS):
        g = float(g_E)
        v_inf = (gl * vl + g * ve) / (gl + g)
        tau_eff = float(params.tau_m) * gl / (gl + g)
        isi = float(params.refractory) + tau_eff * np.log((v_inf - float(params.V_reset)) / (v_inf - float(params.V_th)))
        times = _lif_rate(g_E, params)
        measured = 1 / np.diff(times).mean()
        assert measured == pytest.approx(1 / isi, rel=0.02), g_E


def test_conductance_lif_below_rheobase_never_fires():
    params = ConductanceLIFParams()
    # V_inf = V_th needs g_E / g_L = (V_th - V_L) / (V_E - V_th) = 13/52: stay 1% below.
    rheobase = params.g_L * float((params.V_th - params.V_L) / (params.V_E - params.V_th))
    assert len(_lif_rate(0.99 * rheobase, params, duration=2 * second)) == 0
    assert len(_lif_rate(1.05 * rheobase, params, duration=2 * second)) > 0


def test_pair_stdp_follows_its_exponential_window():
    params = STDPParams()
    lags = np.array([-40, -20, -10, -5, -1, 1, 5, 10, 20, 40]) * ms  # t_post - t_pre
    n = len(lags)
    t_pre = 100 * ms + np.zeros(n) * ms
    pre = SpikeGeneratorGroup(n, np.arange(n), t_pre)
    post = SpikeGeneratorGroup(n, np.arange(n), t_pre + lags)
    syn = stdp_synapses(pre, post, params, target=None)
    syn.connect(j="i")
    syn.w = 0.5
    Network(pre, post, syn).run(200 * ms)
    lag = np.asarray(lags / ms)
    expected = np.where(lag > 0, params.A_plus * np.exp(-lag / float(params.tau_plus / ms)),
                        params.A_minus * np.exp(lag / float(params.tau_minus / ms)))
    np.testing.assert_allclose(np.asarray(syn.w[:]) - 0.5, expected, rtol=1e-6)


def test_integrated_stdp_equals_the_per_step_rule():
    rng = np.random.default_rng(0)
    v_pre, v_post = rng.normal(size=(50, 6)), rng.normal(size=(50, 4))   # 50 steps of potentials
    per_step = sum(0.1 * (np.outer(v_pre[t + 1], v_post[t + 1]) - np.outer(v_pre[t], v_post[t])) for t in range(49))
    np.testing.assert_allclose(integrated_stdp_update(v_pre[0], v_post[0], v_pre[-1], v_post[-1], 0.1), per_step)


@pytest.mark.parametrize("reading", ["literal", "bounded"])
def test_eq6_never_flips_a_weight_sign(reading):
    rng = np.random.default_rng(1)
    w = rng.normal(size=100_000)
    dw = rng.normal(scale=5, size=100_000)
    new = sign_preserving_update(w, dw, eta0=2.0, reading=reading)
    assert np.all(np.sign(new) * np.sign(w) >= 0)
    same_sign = w * dw >= 0
    np.testing.assert_allclose(new[same_sign], (w + 2.0 * dw)[same_sign])  # Eq. 6 first case: eta = eta0


@pytest.mark.parametrize("reading", ["literal", "bounded"])
def test_eq6_keeps_the_sign_of_a_weight_weakened_into_subnormal_numbers(reading):
    w = np.array([0.01, -0.01])
    for _ in range(2_000):   # every update weakens: the cap halves |w| down into subnormal numbers
        w = sign_preserving_update(w, -1e-3 * np.copysign(1.0, w), eta0=1.0, eta1=0.5, reading=reading)
    assert list(np.signbit(w)) == [False, True] and np.all(np.abs(w) < 1e-300)
    grown = sign_preserving_update(w, np.array([1e-3, -1e-3]), eta0=1.0, reading=reading)   # strengthening still works
    np.testing.assert_allclose(grown, [1e-3, -1e-3])


def test_eq6_readings_weaken_a_synapse_at_second_and_first_order():
    w, dw = np.array([0.2, -0.2]), np.array([-1e-3, 1e-3])    # small updates towards zero
    literal = sign_preserving_update(w, dw, eta0=1.0, eta1=0.5, reading="literal")
    np.testing.assert_allclose(literal - w, -0.5 * dw**2 / w)      # eta0 (-eta1 dw / w) dw
    np.testing.assert_allclose(sign_preserving_update(w, dw, eta0=1.0, eta1=0.5, reading="bounded") - w, dw)


def test_inhibitory_fraction_is_exact():
    mask = excitatory_mask(100, 0.3, np.random.default_rng(0))
    assert (~mask).sum() == 30


@pytest.mark.parametrize("make, needle", [
    (lambda: ConductanceLIFParams(tau_m=-1 * ms).validate(DT), "tau_m=-1. ms: time constants must be > 0"),
    (lambda: ConductanceLIFParams(tau_E=0.5 * ms).validate(0.1 * ms), "dt=100. us: larger than a tenth"),
    (lambda: conductance_lif(3, ConductanceLIFParams(tau_E=0.5 * ms)), "larger than a tenth"),
    (lambda: ConductanceLIFParams(tau_m=20 * mV).validate(DT), "tau_m=20. mV: wrong dimensions"),
    (lambda: ConductanceLIFParams(g_L=10 * Hz).validate(DT), "g_L=10. Hz: wrong dimensions"),
    (lambda: STPParams(U=1.5, tau_f=1 * second, tau_d=1 * second).validate(DT), "U=1.5"),
    (lambda: excitatory_mask(10, 1.2, np.random.default_rng()), "inhibitory_fraction=1.2"),
    (lambda: excitatory_mask(3, 0.1, np.random.default_rng()), "too small"),
])
def test_invalid_physical_parameters_fail_before_building(make, needle):
    with pytest.raises(SuiteError) as info:
        make()
    assert needle in str(info.value)


def test_missing_compiler_is_named(monkeypatch):
    import bio.devices as devices

    monkeypatch.setattr(devices.shutil, "which", lambda tool: None)
    with pytest.raises(SuiteError, match="needs the 'g\\+\\+' compiler"):
        devices.activate("cpp")
    with pytest.raises(SuiteError, match="device 'gpu': unknown"):
        devices.activate("gpu")
