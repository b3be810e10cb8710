"""Balanced SNN (balanced-tuning.md): membrane-potential balance, E/I neuron types, STP balance,
weak supervision of the output potentials and STDP consolidation into weights.

Interpretations where the paper is ambiguous (each is a config value with its reason):
- The V of Eq. 3 and 10-12 is a neuron's activity over the presentation (spikes relative to a
  white pixel's relay, so an input's activity is its intensity): the paper identifies a neuron's
  spikes with its "non-differential potential" (Eq. 2), and Eq. 10 compares V with teaching spikes.
- Eq. 12 telescopes over the steps (bio.synapses.integrated_stdp_update), so 't' is the state the
  forward pass reached and 't+1' the state after supervision and MP balance tuned it.
- Eq. 3's energy spans the network, so MP balance of a hidden neuron includes the imbalance of the
  outputs it drives: that is how supervision of the output (Eq. 11) reaches the hidden layer. By
  default the forward pass's own state is the balanced one (`mp_reference='free'`); the literal
  sum_j w_ji V_j - V_th ('linear') needs a gain and threshold (`mp_gain`, `mp_threshold`).
- Eq. 5's denominator dV/dt is the mean of the terms Eq. 5 prints, -(V - V_L) - g_E/g_L (V - V_E),
  in magnitude, floored (`eq5_denominator='printed'`). The hidden layer is driven by Eq. 9's current,
  which that denominator leaves out; with all of Eq. 1's terms ('full') it grows with the firing
  rate, quiet neurons take the largest steps and the hidden rates rose every epoch.
- Eq. 6 applies to every synapse; the input relays have no type, so their weights start with random
  signs, which Eq. 6 then preserves. Its second case as printed, eta0 (-eta1 dw / w), makes a
  weakening step second order in dw (dw^2 / |w|): weights then only grow in magnitude, and the
  rates ran away. `eq6_reading='bounded'` keeps eta0 for weakening steps too, capped so that no
  step flips a sign (the paper's stated purpose of eta1); 'literal' is the printed rate, same cap.
- One 'iteration' (Fig. 3, 7) is one epoch; the weight update of Eq. 12 is averaged over a batch
  presented in one launch.
"""
from .config import PRESETS, BalancedConfig
from .learner import BalancedLearner

__all__ = ["BalancedConfig", "BalancedLearner", "PRESETS", "make_learner"]


def make_learner(config: BalancedConfig) -> BalancedLearner:
    return BalancedLearner(config)
