"""Synapse models and plasticity rules as Brian2 Synapses (and their numpy forms for tests)."""
from __future__ import annotations

import numpy as np
from brian2 import Synapses, defaultclock

from snnsuite.errors import SuiteError

from .neurons import STP_EFFICACY_FROM_PRE
from .parameters import STDPParams, STPParams

# balanced-tuning.md Eq. 7-9, one u and one y = 1 - x per synapse (see neurons.RELAY_STP); both
# relax exactly between spikes.
STP_PER_SYNAPSE = """
w : {w_unit}
du/dt = -u / tau_f : 1 (event-driven)
dy/dt = -y / tau_d : 1 (event-driven)
"""
STP_PER_SYNAPSE_ON_PRE = """
u += U * (1 - u)
{target}_post += A * w * u * (1 - y)
y += u * (1 - y)
"""


def stp_synapses(pre, post, params: STPParams, target: str = "g_E", w_unit: str = "siemens",
                 per_presynaptic: bool = True, A: float = 1.0, name: str = "stp") -> Synapses:
    """Tsodyks-Markram synapses adding A w u x to `target` at each presynaptic spike (Eq. 9).

    With per_presynaptic=True the u, x of Eq. 7-8 live in the presynaptic group (its relays carry
    them, see neurons.input_relays) because U, tau_f, tau_d are shared by all its synapses: the
    state shrinks from N_pre x N_post to N_pre and gives identical currents.
    """
    params.validate(defaultclock.dt)
    namespace = {"U": params.U, "tau_f": params.tau_f, "tau_d": params.tau_d, "A": A}
    if per_presynaptic:
        return Synapses(pre, post, f"w : {w_unit}", on_pre=f"{target}_post += A * w * {STP_EFFICACY_FROM_PRE}",
                        namespace=namespace, name=name)
    return Synapses(pre, post, STP_PER_SYNAPSE.format(w_unit=w_unit),
                    on_pre=STP_PER_SYNAPSE_ON_PRE.format(target=target), namespace=namespace, name=name)


def all_to_all(n_pre: int, n_post: int) -> dict:
    """`Synapses.connect` arguments for all-to-all, pre-major: W[j, i] of an (n_pre, n_post)
    matrix is synapse j * n_post + i, so weights travel to and from numpy by ravel/reshape.

    Pre-major is also the fast order for the per-step paths (event-driven propagation walks one
    presynaptic neuron's synapses; summed variables then add into different targets in turn),
    profiled in Brian2 C++ standalone.
    """
    return dict(i=np.repeat(np.arange(n_pre), n_post), j=np.tile(np.arange(n_post), n_pre))


def stp_steady_state_efficacy(rate_hz: float, params: STPParams) -> float:
    """Closed-form u+ x- per spike for a regular train (Eq. 7-8 iterated to their fixed point)."""
    interval = 1.0 / rate_hz
    decay_f = np.exp(-interval / float(params.tau_f))
    decay_d = np.exp(-interval / float(params.tau_d))
    u_plus = params.U / (1 - (1 - params.U) * decay_f)
    x_minus = (1 - decay_d) / (1 - (1 - u_plus) * decay_d)
    return u_plus * x_minus


# Trace-based pair STDP (Song, Miller & Abbott 2000): each pre spike reads the post trace and each
# post spike the pre trace, giving dw = A_plus e^{-dt/tau_plus} (pre first) or A_minus e^{dt/tau_minus}.
PAIR_STDP = """
w : 1
dapre/dt = -apre / tau_plus : 1 (event-driven)
dapost/dt = -apost / tau_minus : 1 (event-driven)
"""


def stdp_synapses(pre, post, params: STDPParams, target: str | None = "g_E", scale=None,
                  name: str = "stdp", on_pre_effect: str | None = None) -> Synapses:
    params.validate(defaultclock.dt)
    effect = on_pre_effect if on_pre_effect is not None else (f"{target}_post += w * scale\n" if target else "")
    on_pre = effect + "apre += A_plus\nw = clip(w + apost, 0, w_max)"
    on_post = "apost += A_minus\nw = clip(w + apre, 0, w_max)"
    namespace = {"tau_plus": params.tau_plus, "tau_minus": params.tau_minus, "A_plus": params.A_plus,
                 "A_minus": params.A_minus, "w_max": params.w_max, "scale": scale if scale is not None else 1}
    return Synapses(pre, post, PAIR_STDP, on_pre=on_pre, on_post=on_post,
                    namespace=namespace, name=name)


def integrated_stdp_update(v_pre_start, v_post_start, v_pre_end, v_post_end, eta_stdp):
    """balanced-tuning.md Eq. 12 summed over one presentation.

    sum_t eta (V_j^{t+1} V_i^{t+1} - V_j^t V_i^t) telescopes to eta (V_j^end V_i^end - V_j^start V_i^start),
    so the per-step rule needs the products only at the two ends: an exact identity, not an approximation.
    Returns the (n_pre, n_post) weight change.
    """
    return eta_stdp * (np.outer(v_pre_end, v_post_end) - np.outer(v_pre_start, v_post_start))


EQ6_READINGS = ("literal", "bounded")


def _along_sign(w: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """dw measured along w's sign bit: positive strengthens the synapse, negative weakens it."""
    dw = np.asarray(dw, dtype=float)
    return np.where(np.signbit(w), -dw, dw)


def sign_preserving_rate(w: np.ndarray, dw: np.ndarray, eta0: float, eta1: float = 0.5,
                         reading: str = "literal") -> np.ndarray:
    """balanced-tuning.md Eq. 6: the learning rate per synapse.

    eta = eta0 where w dw >= 0. Where the update opposes the weight's sign, the paper's stated goal
    is -eta dw / w <= 1 (no sign flip), which Eq. 6 alone does not guarantee; both readings cap the
    opposing step eta |dw| at eta1 |w|, so a weight shrinks at most by the factor (1 - eta1) per
    update and never changes sign:

    - 'literal': eta = eta0 (-eta1 dw / w), as printed. The step eta0 eta1 dw^2 / |w| is second
      order in dw: a small update weakens a synapse far less than the same update strengthens it.
    - 'bounded': eta = eta0, the cap alone. Weakening and strengthening are symmetric below the cap.

    A weight's sign is read from its sign bit, not from the product w dw: a synapse weakened on
    every update shrinks geometrically to subnormal numbers, where w dw underflows to zero and
    would pass for a strengthening step (an MNIST run flipped 56 excitatory synapses that way).
    """
    if reading not in EQ6_READINGS:
        raise SuiteError(f"Eq. 6 reading '{reading}': choose one of {', '.join(EQ6_READINGS)}")
    w = np.asarray(w, dtype=float)
    dw = np.asarray(dw, dtype=float)
    magnitude = np.abs(w)
    eta = np.full(np.broadcast(w, dw).shape, float(eta0))
    opposing = _along_sign(w, dw) < 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        eta_opp = eta0 * eta1 * np.abs(dw) / magnitude if reading == "literal" else eta
        cap = eta1 * magnitude / np.abs(dw)
    eta[opposing] = np.minimum(eta_opp, cap)[opposing]
    return eta


def sign_preserving_update(w: np.ndarray, dw: np.ndarray, eta0: float, eta1: float = 0.5,
                           reading: str = "literal") -> np.ndarray:
    """w + eta dw with eta from Eq. 6 (see sign_preserving_rate), computed on |w| and given back
    w's sign bit, so that a weight that has underflowed to a signed zero keeps its type."""
    w = np.asarray(w, dtype=float)
    eta = sign_preserving_rate(w, dw, eta0, eta1, reading)
    return np.copysign(np.abs(w) + eta * _along_sign(w, dw), w)
