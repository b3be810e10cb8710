"""GLSNN (glsnn.md Sec. 3) as a Brian2 network that learns inside the run.

Every time step, layer by layer (Algorithm 1, lines 2-7), each layer integrates the discrete
conductance LIF of Eq. 3 from the outputs S of the layer below *in the same step*. The input
layer's spikes reach layer 1 event-driven (only spiking inputs cost work); deeper layers are dense
summed variables. At the last step of each sample, in the 'end' slot:

    order 0  output error e = error_scale (S_out - S^T)                         (Eq. 4)
    order 1  W_L^T e into the penultimate layer, B_l e into the other hidden layers
    order 2  d = S - S_hat: eta_t W_L^T e (Eq. 5) or B_l e + b_l (Eq. 6); S_out - S^T for the output
    order 3  every layer emits the custom event 'sample_end'
    order 4  each forward synapse accumulates dW += S_j d_i (Eq. 7) and, at a batch end,
             applies W -= eta_w dW / batch (Eq. 8)
    order 5  state reset for the next sample

so a whole chunk of samples trains in one launch. Spikes are not Brian2 threshold events here:
Eq. 3 is itself a discrete map whose output S carries them, so each layer's update is one
`run_regularly` statement block that follows Eq. 3 line by line.
"""
from __future__ import annotations

import numpy as np
from brian2 import Network, NeuronGroup, StateMonitor, Synapses, TimedArray

from ..parameters import GLSNNNeuronParams
from .config import GLSNNConfig

PARAMS = GLSNNNeuronParams()
TIMING = """
step = int((t - chunk_start) / dt + 0.5) : integer
last_step = (step % n_steps) == n_steps - 1 : boolean
batch_end = last_step and (int(step / n_steps) % batch) == batch - 1 : boolean
chunk_start : second (shared, constant)
"""
LAYER = TIMING + """
V : 1
g_E : 1
I : 1
S : 1
S_sum : 1
S_read : 1
spike : 1
spike_count : 1
d : 1
"""
# Eq. 3, line by line: V uses the old g_E; g_E integrates this step's input; spike and reset;
# S_i = sum_j w_ji S_j + tau delta_i.
EQ3_UPDATE = """
V_next = V - dt/tau_m * (V - V_L + g_E/g_L * (V - V_E))
g_E = g_E + dt/tau_E * (-g_E + I)
spike = int(V_next > V_th)
V = V_next * (1 - spike) + V_reset * spike
S = I + tau_out * spike
S_sum += S
spike_count += spike
S_read = {readout}
"""
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
# Eq. 7 and Eq. 8, run once per sample by the 'sample_end' event of the postsynaptic layer.
LOCAL_RULE = """
dW += S_read_pre * d_post
w -= eta_w * dW / batch * int(batch_end_post)
dW = dW * (1 - int(batch_end_post))
"""


def post_major(layer: int) -> bool:
    """Synapse memory order per layer, chosen by profiling (Brian2 C++ standalone, this CPU).

    Layer 1 is event-driven and its costly part is the once-per-sample rule (Eq. 7-8), which walks
    each postsynaptic neuron's synapses: post-major order makes that walk contiguous (4x faster).
    Deeper layers are dominated by the per-step summed variable, which is 5x faster pre-major
    (consecutive synapses then add into different targets instead of one serial chain).
    """
    return layer == 1


def connection_order(layer: int, n_pre: int, n_post: int) -> dict:
    if post_major(layer):
        return dict(i=np.tile(np.arange(n_pre), n_post), j=np.repeat(np.arange(n_post), n_pre))
    return dict(i=np.repeat(np.arange(n_pre), n_post), j=np.tile(np.arange(n_post), n_pre))


def flatten_weights(layer: int, weights: np.ndarray) -> np.ndarray:
    """(n_pre, n_post) weights in the synapses' memory order."""
    return (weights.T if post_major(layer) else weights).ravel()


def unflatten_weights(layer: int, flat: np.ndarray, n_pre: int, n_post: int) -> np.ndarray:
    return flat.reshape(n_post, n_pre).T.copy() if post_major(layer) else flat.reshape(n_pre, n_post).copy()


def _namespace(config: GLSNNConfig) -> dict:
    return dict(n_steps=PARAMS.steps, batch=config.batch_size, tau_m=PARAMS.tau_m, tau_E=PARAMS.tau_E,
                V_L=PARAMS.V_L, V_E=PARAMS.V_E, V_th=PARAMS.V_th, V_reset=PARAMS.V_reset,
                g_L=PARAMS.g_leak, tau_out=PARAMS.tau_out, error_scale=config.error_scale, eta_t=config.eta_t)


def structure_key(config: GLSNNConfig, chunk_samples: int) -> str:
    return f"glsnn|{config.layer_sizes}|{config.readout}|{config.batch_size}|{config.error_scale}|{config.eta_t}|{PARAMS!r}|chunk={chunk_samples}"


def build(config: GLSNNConfig, chunk_samples: int) -> dict:
    """Brian2 objects of GLSNN for one chunk; call after bio.devices.activate()."""
    PARAMS.validate()
    sizes = config.layer_sizes
    steps, ns = PARAMS.steps, _namespace(config)
    stimulus = TimedArray(np.zeros((chunk_samples * steps, sizes[0])), dt=PARAMS.dt, name="stimulus")
    labels = TimedArray(np.zeros(chunk_samples), dt=PARAMS.T, name="labels")
    readout = "S_sum / n_steps" if config.readout == "mean" else "S"

    relays = NeuronGroup(sizes[0], RELAYS, threshold="S > 0.5", reset="S_sum += 1", name="relays",
                         namespace={**ns, "stimulus": stimulus}, dt=PARAMS.dt)
    relays.run_regularly(f"S_read = {'S_sum / n_steps' if config.readout == 'mean' else 'S'}\n"
                         "S_sum = S_sum * (1 - int(last_step))", when="end", order=2, name="relays_readout")
    groups, forward, feedback = [relays], [], []
    n_layers = len(sizes) - 1
    for l in range(1, n_layers + 1):
        is_output, is_penultimate = l == n_layers, l == n_layers - 1
        model = LAYER
        if is_output:
            model += "target = int(i == int(label(t - chunk_start) + 0.5)) : 1\nerr : 1\n"
        elif is_penultimate:
            model += "back : 1\n"
        else:
            model += "fb : 1\nfb_bias : 1 (constant)\n"
        layer = NeuronGroup(sizes[l], model, events={"sample_end": "last_step"}, name=f"layer{l}",
                            namespace={**ns, "label": labels}, dt=PARAMS.dt)
        layer.thresholder["sample_end"].when, layer.thresholder["sample_end"].order = "end", 3
        # Layer 1 is driven event-driven (I accumulates on_pre and is cleared after use); deeper
        # layers' I is a summed variable recomputed every step.
        update = EQ3_UPDATE.format(readout=readout) + ("I = 0\n" if l == 1 else "")
        layer.run_regularly(update, when="synapses", order=2 * l + 1, name=f"layer{l}_eq3")
        if is_output:
            layer.run_regularly("d = S_read - target\nerr = error_scale * d", when="end", order=0, name="output_error")
        elif is_penultimate:
            layer.run_regularly("d = eta_t * back", when="end", order=2, name=f"layer{l}_target")
        else:
            layer.run_regularly("d = fb + fb_bias", when="end", order=2, name=f"layer{l}_target")
        layer.run_regularly(RESET, when="end", order=5, name=f"layer{l}_reset")

        model = "w : 1\ndW : 1\neta_w : 1 (shared, constant)\n"
        if l == 1:
            syn = Synapses(relays, layer, model, on_pre="I_post += w", on_post={"post": LOCAL_RULE},
                           on_event={"post": "sample_end"}, name=f"W{l}", namespace=ns, dt=PARAMS.dt)
        else:
            model += "I_post = w * S_pre : 1 (summed)\n" + ("back_pre = w * err_post : 1 (summed)\n" if is_output else "")
            syn = Synapses(groups[-1], layer, model, on_post={"post": LOCAL_RULE},
                           on_event={"post": "sample_end"}, name=f"W{l}", namespace=ns, dt=PARAMS.dt)
            syn.summed_updaters["I_post"].when, syn.summed_updaters["I_post"].order = "synapses", 2 * l
            if is_output:
                syn.summed_updaters["back_pre"].when, syn.summed_updaters["back_pre"].order = "end", 1
        syn.post.when, syn.post.order = "end", 4
        syn.connect(**connection_order(l, sizes[l - 1], sizes[l]))
        groups.append(layer)
        forward.append(syn)

    output = groups[-1]
    for l in range(1, n_layers - 1):
        fb = Synapses(output, groups[l], "B : 1\nfb_post = B * err_pre : 1 (summed)", name=f"B{l}", dt=PARAMS.dt)
        fb.summed_updaters["fb_post"].when, fb.summed_updaters["fb_post"].order = "end", 1
        fb.connect(i=np.repeat(np.arange(sizes[-1]), sizes[l]), j=np.tile(np.arange(sizes[l]), sizes[-1]))
        feedback.append(fb)

    scores = StateMonitor(output, "S_read", record=True, when="end", order=6, name="scores")
    network = Network(*groups, *forward, *feedback, scores)
    return {"network": network, "stimulus": stimulus, "labels": labels, "layers": groups[1:],
            "forward": forward, "feedback": feedback, "scores": scores, "steps": steps}
