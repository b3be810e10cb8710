"""The Balanced SNN of balanced-tuning.md Sec. 3.2 (Fig. 2) as a Brian2 network.

    relays (784, non-LIF, Bernoulli spikes)  --STP current (Eq. 7-9)-->  hidden (conductance LIF, Eq. 1)
    hidden (E and I neurons)                 --conductances (Eq. 2)-->  output (10 excitatory LIF)
    teacher (10 relays, label fires at the input's max rate, Sec. 4.4; spikes drawn by the learner)

A launch presents `chunk` samples of `steps` steps each. At every sample start (a clock of one
presentation, 'start' slot) a monitor reads each neuron's per-sample sums, then the sums and the
membranes, conductances and STP states are reset. The last sample's sums are read from the final
state. The learning rules (Eq. 3-6, 11-12) act on these sums between launches (bio.balanced.rules).
"""
from __future__ import annotations

import numpy as np
from brian2 import Equations, Network, NeuronGroup, StateMonitor, Synapses, TimedArray, defaultclock, mV, ms, nS, pA

from ..devices import source_digest
from ..neurons import conductance_lif, input_relays
from ..parameters import STD, STF, ConductanceLIFParams
from ..synapses import all_to_all
from .config import BalancedConfig

LIF = ConductanceLIFParams()
STP_SETS = {"stf": STF, "std": STD}
# Per-sample sums of each LIF neuron, normalised so that rest is 0 and threshold 1: the potential;
# the terms of tau_m dV/dt that Eq. 5's denominator prints (leak and excitatory conductance);
# all of Eq. 1's right-hand side; spikes counted by the reset.
SUMS = Equations("""
v_sum : 1
printed_drive_sum : 1
drive_sum : 1
count : 1
""")
ACCUMULATE = """
v_sum += (v - V_L) / (V_th - V_L)
printed_drive_sum += (-(v - V_L) - g_E/g_L*(v - V_E)) / (V_th - V_L)
drive_sum += (-(v - V_L) - g_E/g_L*(v - V_E) - g_I/g_L*(v - V_I) + I_syn/g_L) / (V_th - V_L)
"""
SAMPLE_RESET = "v = V_L\ng_E = 0*nS\ng_I = 0*nS\nI_syn = 0*pA\nv_sum = 0\nprinted_drive_sum = 0\ndrive_sum = 0\ncount = 0"
SUM_NAMES = ("v_sum", "printed_drive_sum", "drive_sum", "count")
EQ5_DENOMINATOR_SUMS = {"printed": "printed_drive_sum", "full": "drive_sum"}


def structure_key(config: BalancedConfig, chunk: int) -> str:
    return (f"balanced|{source_digest(__file__)}|{config.hidden}|{config.stp}|{config.steps}|{config.dt_ms}|"
            f"{config.max_rate_hz}|{config.stp_amplitude_pA}|{config.output_weight_nS}|{LIF!r}|chunk={chunk}")


def _lif_layer(n: int, name: str, sample_clock_dt) -> NeuronGroup:
    group = conductance_lif(n, LIF, name=name, extra=SUMS, reset_extra="count += 1")
    group.run_regularly(ACCUMULATE, when="end", name=f"{name}_accumulate")
    group.run_regularly(SAMPLE_RESET, dt=sample_clock_dt, when="start", order=1, name=f"{name}_sample_reset")
    return group


def build(config: BalancedConfig, chunk: int) -> dict:
    """Brian2 objects for one chunk; call after bio.devices.activate()."""
    defaultclock.dt = config.dt_ms * ms
    presentation = config.presentation_ms * ms
    steps = config.steps
    stimulus = TimedArray(np.zeros((chunk * steps, 784)), dt=defaultclock.dt, name="stimulus")
    teaching = TimedArray(np.zeros((chunk * steps, 10)), dt=defaultclock.dt, name="teaching")
    stp = STP_SETS[config.stp] if config.stp else None
    relays = input_relays(784, stimulus, mode="spikes", stp=stp, name="relays")
    if stp:  # every sample starts from rested synapses
        relays.run_regularly("u = 0\ny = 0", dt=presentation, when="start", order=1, name="relays_sample_reset")
    # The teacher's spikes come drawn, like the input's, so that a seed fixes every spike.
    teacher = NeuronGroup(10, "count : 1\nchunk_start : second (shared, constant)",
                          threshold="teaching(t - chunk_start, i) > 0.5", reset="count += 1", name="teacher",
                          namespace={"teaching": teaching})
    teacher.run_regularly("count = 0", dt=presentation, when="start", order=1, name="teacher_sample_reset")
    hidden = _lif_layer(config.hidden, "hidden", presentation)
    output = _lif_layer(10, "output", presentation)

    # Eq. 9: a relay spike adds A w u x to I_syn (signed w: negative weights inhibit). With STP off
    # the efficacy is constant: the STF set's U, a rested synapse's first-spike efficacy, so that
    # switching STP on changes the dynamics, not the scale.
    efficacy = "((u_pre + U*(1 - u_pre)) * (1 - y_pre))" if stp else "U"
    w_in = Synapses(relays, hidden, "w : 1", on_pre=f"I_syn_post += A * w * {efficacy}", name="w_in",
                    namespace={"A": config.stp_amplitude_pA * pA, "U": (stp or STF).U})
    w_in.connect(**all_to_all(784, config.hidden))
    # Eq. 2 with E/I types (Sec. 4.2): a positive weight opens excitatory, a negative one inhibitory conductance.
    w_out = Synapses(hidden, output, "w : 1",
                     on_pre="g_E_post += w_unit * clip(w, 0, inf)\ng_I_post += w_unit * clip(-w, 0, inf)",
                     name="w_out", namespace={"w_unit": config.output_weight_nS * nS})
    w_out.connect(**all_to_all(config.hidden, 10))

    monitors = {g.name: StateMonitor(g, list(SUM_NAMES) if g is not teacher else ["count"], record=True, dt=presentation,
                                     when="start", order=0, name=f"{g.name}_sums") for g in (hidden, output, teacher)}
    network = Network(relays, teacher, hidden, output, w_in, w_out, *monitors.values())
    return {"network": network, "stimulus": stimulus, "teaching": teaching, "relays": relays, "teacher": teacher,
            "hidden": hidden, "output": output, "w_in": w_in, "w_out": w_out, "monitors": monitors}


def read_sums(group, monitor, names, chunk: int) -> dict[str, np.ndarray]:
    """(chunk, n) per-sample sums: the monitor's reads at samples 1..chunk-1 of this launch hold
    samples 0..chunk-2, the group's final state holds the last sample."""
    out = {}
    for name in names:
        recorded = np.asarray(getattr(monitor, name))[:, -(chunk - 1):] if chunk > 1 else np.zeros((len(group), 0))
        out[name] = np.concatenate([recorded.T, np.asarray(getattr(group, name)[:])[None]], axis=0)
    return out
