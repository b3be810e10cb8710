"""Balanced SNN (balanced-tuning.md): membrane-potential balance, E/I neuron types, STP balance,
weak supervision of the output potentials and STDP consolidation into weights.

Interpretations where the paper is ambiguous (each is a config value with its reason):
- Potentials are compared in one dimensionless scale: 0 at rest, 1 at threshold, so that V_th = 1
  in Eq. 3 and sum_j w_ji V_j uses presynaptic *activity* (what a neuron sends is spikes; an input
  relay's activity is its pixel intensity).
- A neuron's V in Eq. 3-5 and 10-12 is its mean over the presentation; Eq. 12 telescopes over the
  steps (bio.synapses.integrated_stdp_update), so 't' is the state the forward pass reached and
  't+1' the state after MP balance and supervision tuned it.
- Eq. 3's energy spans the network, so MP balance of a hidden neuron includes the imbalance of the
  outputs it drives: that is how supervision of the output (Eq. 11) reaches the hidden layer.
- Eq. 5's denominator dV/dt is the mean leak-plus-excitation term of Eq. 1, in magnitude, floored.
- Eq. 6 applies to every synapse; the input relays have no type, so their weights start with random
  signs, which Eq. 6 then preserves. The teaching signal enters Eq. 10-11 as the target activity.
- One 'iteration' (Fig. 3, 7) is one epoch; the weight update of Eq. 12 is averaged over a batch
  presented in one launch.
"""
from .config import PRESETS, BalancedConfig
from .learner import BalancedLearner

__all__ = ["BalancedConfig", "BalancedLearner", "PRESETS", "make_learner"]


def make_learner(config: BalancedConfig) -> BalancedLearner:
    return BalancedLearner(config)
