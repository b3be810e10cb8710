"""GLSNN (glsnn.md Sec. 3) as a Brian2 network that learns inside the run.

Every time step, layer by layer (Algorithm 1, lines 2-7), each layer integrates the discrete
conductance LIF of Eq. 3 from the outputs S of the layer below *in the same step*. The input
layer's spikes reach layer 1 event-driven (only spiking inputs cost work); deeper layers are dense
summed variables. At the last step of each sample, in the 'end' slot:

    order 0  output error e = error_scale (S_out - S^T)                         (Eq. 4)
    order 1  W_L^T e into the penultimate layer, B_l e into the other hidden layers
    order 2  d = S - S_hat: eta_t W_L^T e (Eq. 5) or B_l e + b_l (Eq. 6); S_out - S^T for the output
    order 3  every group stores its S (presynaptic role) and d (postsynaptic role) of this sample
             in the slot of the sample's position within the batch
    order 4-5  at a batch end, each forward synapse applies Eq. 7-8 for the whole batch at once:
               W -= eta_w / batch * sum_k S_j^k d_i^k, one pass over the synapses per batch
    order 6  state reset for the next sample

so a whole chunk of samples trains in one launch. Spikes are not Brian2 threshold events here:
Eq. 3 is itself a discrete map whose output S carries them, so each layer's update is one
`run_regularly` statement block that follows Eq. 3 line by line.
"""
from __future__ import annotations

import numpy as np
from brian2 import Network, NeuronGroup, StateMonitor, Synapses, TimedArray, defaultclock

from ..devices import source_digest
from ..neurons import GLSNN_LIF_STATE, GLSNN_LIF_STEP
from ..parameters import GLSNNNeuronParams
from ..synapses import all_to_all
from .config import GLSNNConfig

PARAMS = GLSNNNeuronParams()
TIMING = """
step = int((t - chunk_start) / dt + 0.5) : integer
last_step = (step % n_steps) == n_steps - 1 : boolean
slot = int(step / n_steps) % batch : integer
batch_end = last_step and slot == batch - 1 : boolean
chunk_start : second (shared, constant)
"""
LAYER = TIMING + GLSNN_LIF_STATE
RESET = """
V = V * (1 - int(last_step)) + V_reset * int(last_step)
g_E = g_E * (1 - int(last_step))
S_sum = S_sum * (1 - int(last_step))
"""
RELAYS = TIMING + """
S = stimulus(t - chunk_start, i) : 1
S_sum : 1
S_read : 1
"""


def batch_slots(name: str, source: str, batch: int) -> tuple[str, str]:
    """Per-neuron variables name_0..name_{batch-1} and the statements that store `source` of the
    current sample into its slot at the sample's last step."""
    model = "".join(f"{name}_{k} : 1\n" for k in range(batch))
    store = "".join(f"{name}_{k} += ({source} - {name}_{k}) * int(last_step and slot == {k})\n" for k in range(batch))
    return model, store


def local_rule(batch: int) -> str:
    """Eq. 7 summed over the batch and Eq. 8, run by the postsynaptic 'batch_end' event."""
    return "w -= eta_w / batch * (" + " + ".join(f"S_hist_{k}_pre * d_hist_{k}_post" for k in range(batch)) + ")"


def _namespace(config: GLSNNConfig) -> dict:
    return dict(n_steps=PARAMS.steps, batch=config.batch_size, tau_m=PARAMS.tau_m, tau_E=PARAMS.tau_E,
                V_L=PARAMS.V_L, V_E=PARAMS.V_E, V_th=PARAMS.V_th, V_reset=PARAMS.V_reset,
                g_L=PARAMS.g_leak, tau_out=PARAMS.tau_out, error_scale=config.error_scale, eta_t=config.eta_t)


def structure_key(config: GLSNNConfig, chunk_samples: int) -> str:
    return f"glsnn|{source_digest(__file__)}|{config.layer_sizes}|{config.readout}|{config.batch_size}|{config.error_scale}|{config.eta_t}|{PARAMS!r}|chunk={chunk_samples}"


def build(config: GLSNNConfig, chunk_samples: int) -> dict:
    """Brian2 objects of GLSNN for one chunk; call after bio.devices.activate()."""
    PARAMS.validate()
    sizes, batch = config.layer_sizes, config.batch_size
    steps, ns = PARAMS.steps, _namespace(config)
    n_layers = len(sizes) - 1
    defaultclock.dt = PARAMS.dt
    stimulus = TimedArray(np.zeros((chunk_samples * steps, sizes[0])), dt=PARAMS.dt, name="stimulus")
    labels = TimedArray(np.zeros(chunk_samples), dt=PARAMS.T, name="labels")
    readout = "S_sum / n_steps" if config.readout == "mean" else "S"
    s_model, s_store = batch_slots("S_hist", "S_read", batch)
    d_model, d_store = batch_slots("d_hist", "d", batch)

    relays = NeuronGroup(sizes[0], RELAYS + s_model, threshold="S > 0.5", reset="S_sum += 1", name="relays",
                         namespace={**ns, "stimulus": stimulus})
    relays.run_regularly(f"S_read = {readout}\n" + s_store + "S_sum = S_sum * (1 - int(last_step))",
                         when="end", order=2, name="relays_readout")
    groups, forward, feedback = [relays], [], []
    for l in range(1, n_layers + 1):
        is_output, is_penultimate = l == n_layers, l == n_layers - 1
        model = LAYER + d_model + ("" if is_output else s_model)
        if is_output:
            model += "target = int(i == int(label(t - chunk_start) + 0.5)) : 1\nerr : 1\n"
            target_code = "d = S_read - target\nerr = error_scale * d"            # Eq. 4
        elif is_penultimate:
            model += "back : 1\n"
            target_code = "d = eta_t * back"                                      # Eq. 5
        else:
            model += "fb : 1\nfb_bias : 1 (constant)\n"
            target_code = "d = fb + fb_bias"                                      # Eq. 6
        layer = NeuronGroup(sizes[l], model, events={"batch_end": "batch_end"}, name=f"layer{l}",
                            namespace={**ns, "label": labels})
        layer.thresholder["batch_end"].when, layer.thresholder["batch_end"].order = "end", 4
        # Layer 1 is driven event-driven (I accumulates on_pre and is cleared after use); deeper
        # layers' I is a summed variable recomputed every step.
        update = GLSNN_LIF_STEP + f"S_sum += S\nS_read = {readout}\n" + ("I = 0\n" if l == 1 else "")
        layer.run_regularly(update, when="synapses", order=2 * l + 1, name=f"layer{l}_eq3")
        layer.run_regularly(target_code, when="end", order=0 if is_output else 2, name=f"layer{l}_target")
        layer.run_regularly(d_store + ("" if is_output else s_store), when="end", order=3, name=f"layer{l}_store")
        layer.run_regularly(RESET, when="end", order=6, name=f"layer{l}_reset")

        model = "w : 1\neta_w : 1 (shared, constant)\n"
        pathways = dict(on_post={"post": local_rule(batch)}, on_event={"post": "batch_end"},
                        name=f"W{l}", namespace=ns)
        if l == 1:
            syn = Synapses(relays, layer, model, on_pre="I_post += w", **pathways)
        else:
            model += "I_post = w * S_pre : 1 (summed)\n" + ("back_pre = w * err_post : 1 (summed)\n" if is_output else "")
            syn = Synapses(groups[-1], layer, model, **pathways)
            syn.summed_updaters["I_post"].when, syn.summed_updaters["I_post"].order = "synapses", 2 * l
            if is_output:
                syn.summed_updaters["back_pre"].when, syn.summed_updaters["back_pre"].order = "end", 1
        syn.post.when, syn.post.order = "end", 5
        syn.connect(**all_to_all(sizes[l - 1], sizes[l]))
        groups.append(layer)
        forward.append(syn)

    output = groups[-1]
    for l in range(1, n_layers - 1):
        fb = Synapses(output, groups[l], "B : 1\nfb_post = B * err_pre : 1 (summed)", name=f"B{l}")
        fb.summed_updaters["fb_post"].when, fb.summed_updaters["fb_post"].order = "end", 1
        fb.connect(**all_to_all(sizes[-1], sizes[l]))
        feedback.append(fb)

    scores = StateMonitor(output, "S_read", record=True, when="end", order=7, name="scores")
    network = Network(*groups, *forward, *feedback, scores)
    return {"network": network, "stimulus": stimulus, "labels": labels, "layers": groups[1:],
            "forward": forward, "feedback": feedback, "scores": scores, "steps": steps}
