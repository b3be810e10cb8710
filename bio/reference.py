"""The reference plastic network of the engine benchmark and tests.

784 rate-coded input relays -> 100 conductance LIF neurons (balanced-tuning.md Eq. 1-2) through
synapses with short-term plasticity (Eq. 7-9, per-presynaptic u, x) and pair STDP, one sample
presented for `sample_duration`, transient state reset at every sample start.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Hz, Network, SpikeMonitor, TimedArray, defaultclock, ms, nS

from .devices import source_digest
from .neurons import STP_EFFICACY_FROM_PRE, conductance_lif, input_relays
from .parameters import STD, ConductanceLIFParams, STDPParams, STPParams, check_time_constants, quantity
from .synapses import all_to_all, stdp_synapses


@dataclass(frozen=True)
class ReferenceConfig:
    n_input: int = 784
    n_hidden: int = 100
    sample_duration: object = quantity(350 * ms)  # Diehl & Cook (2015) presentation time
    dt: object = quantity(0.5 * ms)  # a tenth of the fastest time constant (tau_E = 5 ms)
    max_rate: object = quantity(63.75 * Hz)  # pixel 255 -> 63.75 Hz (Diehl & Cook 2015)
    g_max: object = quantity(1 * nS)  # conductance step of a weight-1 synapse at full efficacy
    input_mode: str = "rate"               # "rate": Bernoulli drawn in the network; "spikes": given
    lif: ConductanceLIFParams = field(default_factory=ConductanceLIFParams)
    stp: STPParams = STD
    stdp: STDPParams = field(default_factory=STDPParams)

    def validate(self) -> "ReferenceConfig":
        self.lif.validate(self.dt)
        self.stp.validate(self.dt)
        self.stdp.validate(self.dt)
        check_time_constants(self.dt, sample_duration=self.sample_duration)
        return self

    @property
    def steps(self) -> int:
        return int(round(self.sample_duration / self.dt))

    def structure_key(self, chunk_samples: int) -> str:
        return f"reference|{source_digest(__file__)}|{self!r}|chunk={chunk_samples}"


def initial_weights(config: ReferenceConfig) -> np.ndarray:
    """A deterministic spread of weights in [0.3, 0.7], in the synapses' (pre-major) order."""
    return 0.3 + 0.4 * (all_to_all(config.n_input, config.n_hidden)["i"] % 7) / 6


def build_reference(config: ReferenceConfig, chunk_samples: int) -> dict:
    """Brian2 objects of the reference network for a chunk of samples (call after activate())."""
    config.validate()
    if config.input_mode == "rate":
        stimulus = TimedArray(np.zeros((chunk_samples, config.n_input)), dt=config.sample_duration, name="stimulus")
    else:
        stimulus = TimedArray(np.zeros((chunk_samples * config.steps, config.n_input)), dt=config.dt, name="stimulus")
    defaultclock.dt = config.dt
    relays = input_relays(config.n_input, stimulus, mode=config.input_mode, max_rate=config.max_rate, stp=config.stp)
    hidden = conductance_lif(config.n_hidden, config.lif)
    syn = stdp_synapses(relays, hidden, config.stdp, target=None, name="input_hidden",
                        on_pre_effect=f"g_E_post += w * g_max * {STP_EFFICACY_FROM_PRE}\n")
    syn.namespace.update(U=config.stp.U, g_max=config.g_max)
    syn.connect(**all_to_all(config.n_input, config.n_hidden))
    syn.w = initial_weights(config)
    # Each sample starts from rest with fresh STP resources and empty STDP traces. Every object is
    # named: generated code then depends only on the structure, so a cached build is reused.
    every_sample = dict(dt=config.sample_duration, when="start")
    relays.run_regularly("u = 0\ny = 0", name="relays_sample_reset", **every_sample)
    hidden.run_regularly("v = V_L\ng_E = 0*nS\ng_I = 0*nS\nI_syn = 0*amp", name="hidden_sample_reset", **every_sample)
    syn.run_regularly("apre = 0\napost = 0", name="traces_sample_reset", **every_sample)
    spikes = SpikeMonitor(hidden, record=False, name="hidden_spikes")
    network = Network(relays, hidden, syn, spikes)
    return {"network": network, "stimulus": stimulus, "synapses": syn, "hidden": hidden, "spikes": spikes}
