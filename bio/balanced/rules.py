"""The learning steps of balanced-tuning.md Algorithm 1 as numpy functions on per-sample states.

States are dimensionless and per sample (rows of a batch). The V of Eq. 3 and 10-12 is a neuron's
activity `a` (spikes per presentation over the spikes a white pixel's relay fires, so an input's
activity is its pixel intensity): the paper identifies a neuron's spikes with its "non-differential
potential" (Sec. 3.1, Eq. 2), and Eq. 10 compares V with the teaching spikes. The denominator of
Eq. 4-5 is `drive`, the per-sample mean of the terms of tau_m dV/dt that Eq. 5 prints (leak and
excitatory conductance; config `eq5_denominator`), normalised so that rest is 0 and threshold 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..synapses import sign_preserving_update


def imbalance(v_post, v_pre, w, gain: float, threshold: float) -> np.ndarray:
    """Eq. 3: Delta E_i = V_i - (sum_j w_ji V_j - V_th,i)."""
    return v_post - (gain * v_pre @ w - threshold)


def energy(x, hidden_a, output_a, w_in, w_out, gain: float, threshold: float) -> float:
    """E = 1/2 sum_i Delta E_i^2 over the hidden and output neurons (Eq. 3)."""
    return 0.5 * float((imbalance(hidden_a, x, w_in, gain, threshold) ** 2).sum()
                       + (imbalance(output_a, hidden_a, w_out, gain, threshold) ** 2).sum())


def energy_slope(d_e_hidden, d_e_out, w_out, gain: float, active) -> np.ndarray:
    """dE/dV of the hidden neurons (Eq. 4): their own imbalance minus what they cause in the
    outputs they feed; `active` (0 or 1 per neuron) is the slope from potential to activity."""
    return d_e_hidden - active * gain * (d_e_out @ w_out.T)


def supervision_step(v_out, teaching, eta_c: float) -> np.ndarray:
    """Eq. 11: dV_i^SUP = -eta^c (V_i - delta(t - t_sp)), the teaching spikes as activity."""
    return -eta_c * (v_out - teaching)


def mp_balance_step(d_energy, drive, floor: float, eta_mp: float) -> np.ndarray:
    """Eq. 5: Delta V^MP = -eta_MP dE/dt / (dV/dt), with |dV/dt| floored (see the config)."""
    return -eta_mp * d_energy / np.maximum(np.abs(drive), floor)


def integrated_stdp(pre_before, post_before, pre_after, post_after, eta_stdp: float) -> np.ndarray:
    """Eq. 12 over a batch: eta (V_j^{t+1} V_i^{t+1} - V_j^t V_i^t), averaged over its samples."""
    return eta_stdp * (pre_after.T @ post_after - pre_before.T @ post_before) / len(pre_before)


@dataclass
class LayerStates:
    """One batch of per-sample states of a layer (rows: samples)."""

    a: np.ndarray        # activity: the V that Eq. 2-3 and 10-12 use
    v: np.ndarray        # mean membrane potential, 0 at rest and 1 at threshold
    drive: np.ndarray    # mean tau_m dV/dt (the terms config.eq5_denominator names), Eq. 4-5's denominator


def tuned_updates(x, hidden: LayerStates, output: LayerStates, teaching, w_in, w_out, config) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2.3, 2.5 and 2.6 of Algorithm 1: the weight changes (Eq. 12) that consolidate the
    states tuned by supervision (Eq. 10-11) and MP balance (Eq. 3-5).

    The energy E = 1/2 sum_i Delta E_i^2 of Eq. 3 spans the network: one descent step on a hidden
    neuron's state (Eq. 4's chain rule) includes the output neurons it feeds, so supervision of
    the output reaches the hidden layer through the forward weights. A hidden neuron that did not
    spike has no slope from potential to output, and takes no share of the output term. With
    `mp_reference='free'` the state the forward pass reached is the balanced one (Delta E = 0), so
    only supervision unbalances the network; 'linear' takes Eq. 3's sum_j w_ji V_j - V_th literally.
    """
    c = config
    d_out = supervision_step(output.a, teaching, c.eta_c) if c.supervision else np.zeros_like(output.a)
    d_hidden = np.zeros_like(hidden.a)
    if c.mp_balance:
        if c.mp_reference == "free":
            d_e_out, d_e_hidden = d_out, 0.0
        else:
            d_e_out = imbalance(output.a + d_out, hidden.a, w_out, c.mp_gain, c.mp_threshold)
            d_e_hidden = imbalance(hidden.a, x, w_in, c.mp_gain, c.mp_threshold)
        slope = energy_slope(d_e_hidden, d_e_out, w_out, c.mp_gain, hidden.a > 0)
        d_hidden = mp_balance_step(slope, hidden.drive, c.drive_floor, c.eta_mp)
    dw_in = integrated_stdp(x, hidden.a, x, hidden.a + d_hidden, c.eta_stdp)
    dw_out = integrated_stdp(hidden.a, output.a, hidden.a + d_hidden, output.a + d_out, c.eta_stdp)
    return dw_in, dw_out


def apply_type_preserving(w, dw, config) -> np.ndarray:
    """Step 2.7, Eq. 6: the learning rate that never lets an update flip a synapse's sign."""
    return sign_preserving_update(w, dw, config.eta0, config.eta1, config.eq6_reading)


def linear_states(x, w_in, w_out, gain: float, threshold: float) -> tuple[LayerStates, LayerStates]:
    """Without feed-forward LIF integration (Fig. 7's 'MP only'): each layer sits at the balanced
    state of Eq. 3, V_i = sum_j w_ji V_j - V_th, and is active where that exceeds 0."""
    v_h = gain * x @ w_in - threshold
    hidden = LayerStates(np.clip(v_h, 0, 1), v_h, np.ones_like(v_h))
    v_o = gain * hidden.a @ w_out - threshold
    return hidden, LayerStates(np.clip(v_o, 0, 1), v_o, np.ones_like(v_o))
