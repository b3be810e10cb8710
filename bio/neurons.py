"""Neuron models as Brian2 equations with physical units.

Every object of a network runs on Brian2's `defaultclock`, whose dt the network builder sets
first: one clock keeps all pathways in step, and brian2cuda supports synaptic pathways only on it.
"""
from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, defaultclock

from snnsuite.errors import SuiteError

from .parameters import ConductanceLIFParams, check_fraction

# balanced-tuning.md Eq. 1 (the I_syn term is the STP-driven current of Eq. 9); conductances are
# driven by presynaptic spikes (Eq. 2) and decay exponentially.
CONDUCTANCE_LIF = Equations("""
dv/dt = (-(v - V_L) - g_E/g_L*(v - V_E) - g_I/g_L*(v - V_I) + I_syn/g_L) / tau_m : volt (unless refractory)
""")
CONDUCTANCE_DECAY = Equations("""
dg_E/dt = -g_E / tau_E : siemens
dg_I/dt = -g_I / tau_I : siemens
dI_syn/dt = -I_syn / tau_syn : amp
""")
# glsnn.md Eq. 2-3: the discretised conductance LIF as the paper states it, one step of dt per
# update (dimensionless potentials; constants in parameters.GLSNNNeuronParams). I is this step's
# input sum_j w_ji S_j(t+1); S is the neuron's output. Eq. 3's last line has two readings
# (GLSNN_OUTPUT): as printed, S = I + tau delta, which passes the input on linearly; spiking, S =
# delta, the spike itself. fac_sum accumulates the surrogate window of the postsynaptic factor.
GLSNN_LIF_STATE = """
V : 1
g_E : 1
I : 1
S : 1
S_sum : 1
S_read : 1
spike : 1
spike_count : 1
fac_sum : 1
d : 1
"""
GLSNN_MEMBRANE_STEP = "V_next = V - dt/tau_m * (V - V_L + g_E/g_L * (V - V_E))\n"
GLSNN_CONDUCTANCE_STEP = "g_E = g_E + dt/tau_E * (-g_E + I)\n"
GLSNN_SPIKE_STEP = """spike = int(V_next > V_th)
V = V_next * (1 - spike) + V_reset * spike
fac_sum += clip(1 - abs(V_next - V_th) / (surrogate_width * V_th), 0, 1)
spike_count += spike
"""
GLSNN_OUTPUT = {"printed": "S = I + tau_out * spike", "spiking": "S = spike"}


def glsnn_lif_step(conductance_step: str) -> str:
    """One step of Eq. 3, lines 1-3. Line 1's g_E has no time index: 'previous' reads g_E(t) (forward
    Euler), 'updated' reads g_E(t+1), the conductance that has just taken this step's input."""
    order = {"previous": (GLSNN_MEMBRANE_STEP, GLSNN_CONDUCTANCE_STEP), "updated": (GLSNN_CONDUCTANCE_STEP, GLSNN_MEMBRANE_STEP)}
    return "\n" + "".join(order[conductance_step]) + GLSNN_SPIKE_STEP


# Constant conductances, for closed-form tests of the membrane equation alone.
CONSTANT_CONDUCTANCES = Equations("""
g_E : siemens (constant)
g_I : siemens (constant)
I_syn : amp (constant)
""")


def conductance_lif(n: int, params: ConductanceLIFParams, name: str = "hidden",
                    constant_conductances: bool = False, method: str = "euler",
                    extra: Equations | None = None, reset_extra: str = "", **kwargs) -> NeuronGroup:
    """A group of conductance-based LIF neurons (balanced-tuning.md Eq. 1-2); `extra` adds model
    variables and `reset_extra` statements run at each spike."""
    params.validate(defaultclock.dt)
    eqs = CONDUCTANCE_LIF + (CONSTANT_CONDUCTANCES if constant_conductances else CONDUCTANCE_DECAY)
    if extra is not None:
        eqs += extra
    group = NeuronGroup(n, eqs, threshold="v > V_th", reset="v = V_reset\n" + reset_extra, refractory=params.refractory,
                        method=method, namespace=params.namespace(), name=name, **kwargs)
    group.v = params.V_L
    return group


def excitatory_mask(n: int, inhibitory_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Which of n neurons are excitatory; exactly round(fraction * n) are inhibitory, chosen at random."""
    check_fraction("inhibitory_fraction", inhibitory_fraction)
    n_inhibitory = int(round(inhibitory_fraction * n))
    if inhibitory_fraction > 0 and n_inhibitory == 0:
        raise SuiteError(f"hidden layer of {n} neurons: too small for an inhibitory fraction of {inhibitory_fraction}")
    mask = np.ones(n, dtype=bool)
    mask[rng.choice(n, n_inhibitory, replace=False)] = False
    return mask


# Non-LIF input relays (balanced-tuning.md Sec. 3.2). `stimulus(t - chunk_start, i)` is a TimedArray:
# in "rate" mode it holds intensities and a relay spikes when rate * dt exceeds a fresh uniform
# number (Bernoulli coding, drawn inside the network); in "spikes" mode it holds the 0/1 spikes of
# snnsuite.encoders, so both sides of the suite see the same input. Per-presynaptic STP state lives
# here so that one u, x pair serves all outgoing synapses of a relay (Eq. 7-8).
RELAY_DRIVE = {
    "rate": ("rate = stimulus(t - chunk_start, i) * max_rate : Hz", "rand() < rate * dt"),
    "spikes": ("", "stimulus(t - chunk_start, i) > 0.5"),
}
# Eq. 7-8 with y = 1 - x (the used fraction of resources), so that the zero state is the rested
# synapse: dy/dt = -y / tau_d is Eq. 8 for x, and nothing needs initialising to 1.
RELAY_STP = Equations("""
du/dt = -u / tau_f : 1
dy/dt = -y / tau_d : 1
""")
# Eq. 7-8 at a spike: u jumps first, the efficacy uses the new u and the old x, then x drops by u x.
# Synapses read u, y before this reset runs (the 'synapses' slot precedes 'resets'), so they
# compute the same efficacy inline with STP_EFFICACY_FROM_PRE.
RELAY_STP_RESET = "u += U * (1 - u)\ny += u * (1 - y)"
STP_EFFICACY_FROM_PRE = "((u_pre + U*(1 - u_pre)) * (1 - y_pre))"


def input_relays(n: int, stimulus, mode: str = "rate", max_rate=None, stp=None, name: str = "relays") -> NeuronGroup:
    """Input relays driven by a TimedArray (see RELAY_DRIVE), optionally carrying STP state."""
    if mode not in RELAY_DRIVE:
        raise SuiteError(f"relay mode '{mode}': unknown; choose one of {', '.join(RELAY_DRIVE)}")
    drive, threshold = RELAY_DRIVE[mode]
    eqs = Equations(drive + "\nchunk_start : second (shared, constant)")
    namespace = {"stimulus": stimulus, "max_rate": max_rate}
    if stp is not None:
        stp.validate(defaultclock.dt)
        eqs += RELAY_STP
        namespace.update(U=stp.U, tau_f=stp.tau_f, tau_d=stp.tau_d)
    return NeuronGroup(n, eqs, threshold=threshold, reset=RELAY_STP_RESET if stp is not None else "",
                       method="exact", namespace=namespace, name=name)
