"""GLSNN (glsnn.md Sec. 3) as a Brian2 network that learns inside the run.

Every time step, layer by layer (Algorithm 1, lines 2-7), each layer integrates the discrete
conductance LIF of Eq. 3 from the outputs S of the layer below *in the same step*: in the 'synapses'
slot, forward synapses W_l deliver at order 3l-1, layer l updates at 3l and fires at 3l+1. Binary
outputs (input spikes; hidden spikes in the spiking reading) are delivered event-driven, so only
spikes cost work; real-valued ones (direct input; the printed reading's S = I + tau delta) through
summed variables. Input spikes are drawn inside the network from each sample's 784 intensities
(input_spikes='network') or read from shipped spikes ('encoder'). At the last step of each sample,
in the 'end' slot:

    order 0  output error e = error_scale (S_out - S^T)                         (Eq. 4)
    order 1  W_L^T e into the penultimate layer, B_l e into the other hidden layers
    order 2  d = S - S_hat: eta_t W_L^T e (Eq. 5) or B_l e + b_l (Eq. 6), times the postsynaptic
             factor of the spiking reading (Eq. 7); S_out - S^T for the output
    order 3  every group stores its S (presynaptic role) and d (postsynaptic role) of this sample
             in the slot of the sample's position within the batch
    order 4-5  at a batch end, each forward synapse applies Eq. 7-8 for the whole batch at once
               (SGD, or Adam with its moments as synaptic state), one pass over the synapses
    order 6  state reset for the next sample

so a whole chunk of samples trains in one launch. Eq. 3 is a discrete map, so each layer's update
is one `run_regularly` block that follows it line by line; its spikes are then Brian2 threshold
events, which SpikeMonitors can record.
"""
from __future__ import annotations

import numpy as np
from brian2 import Network, NeuronGroup, StateMonitor, Synapses, TimedArray, defaultclock, seed

from ..devices import source_digest
from .. import neurons
from ..neurons import GLSNN_LIF_STATE, GLSNN_OUTPUT, glsnn_lif_step
from ..parameters import GLSNNNeuronParams
from ..synapses import all_to_all
from .config import INPUT_SIZE, GLSNNConfig
from .learning import ADAM_BETA1, ADAM_BETA2, ADAM_EPS

PARAMS = GLSNNNeuronParams()
TIMING = """
step = int((t - chunk_start) / dt + 0.5) : integer
last_step = (step % n_steps) == n_steps - 1 : boolean
slot = int(step / n_steps) % batch : integer
batch_end = last_step and slot == batch - 1 and step < samples_in_chunk * n_steps : boolean
chunk_start : second (shared, constant)
samples_in_chunk : integer (shared, constant)
"""
LAYER = TIMING + GLSNN_LIF_STATE
RESET = """
V = V * (1 - int(last_step)) + V_reset * int(last_step)
g_E = g_E * (1 - int(last_step))
S_sum = S_sum * (1 - int(last_step))
fac_sum = fac_sum * (1 - int(last_step))
"""
RELAYS = TIMING + """
S : 1
S_sum : 1
S_read : 1
phase : 1 (constant)
"""
# What drives the input relays' S each step (see the module docstring). Standalone launches all
# start from the same seed, so each launch rotates the uniform numbers by a fresh phase per relay
# (frac(U + phase) is uniform again): new noise every launch, fixed by the learner's generator.
NETWORK_SEED = 0
RELAY_DRIVE = {
    "network bernoulli": "S = int((rand() + phase) % 1.0 < stimulus(t - chunk_start, i))",
    "network direct": "S = stimulus(t - chunk_start, i)",
    "encoder bernoulli": "S = stimulus(t - chunk_start, i)",
}
ADAM_UPDATE = """
grad = ({sum}) / batch
m = beta1 * m + (1 - beta1) * grad
v = beta2 * v + (1 - beta2) * grad**2
n_update = adam_updates + int(step_post / (n_steps * batch)) + 1
w -= eta_w * m / (1 - beta1**n_update) / (sqrt(v / (1 - beta2**n_update)) + adam_eps)
"""


def batch_slots(name: str, source: str, batch: int) -> tuple[str, str]:
    """Per-neuron variables name_0..name_{batch-1} and the statements that store `source` of the
    current sample into its slot at the sample's last step."""
    model = "".join(f"{name}_{k} : 1\n" for k in range(batch))
    store = "".join(f"{name}_{k} += ({source} - {name}_{k}) * int(last_step and slot == {k})\n" for k in range(batch))
    return model, store


def local_rule(config: GLSNNConfig) -> str:
    """Eq. 7 summed over the batch and Eq. 8, run by the postsynaptic 'batch_end' event."""
    batch_sum = " + ".join(f"S_hist_{k}_pre * d_hist_{k}_post" for k in range(config.batch_size))
    if config.optimizer == "adam":
        return ADAM_UPDATE.format(sum=batch_sum)
    return f"w -= eta_w / batch * ({batch_sum})"


def stimulus_shape(config: GLSNNConfig, chunk_samples: int) -> tuple[tuple[int, int], object]:
    """Rows of the input TimedArray and their dt: one row of intensities per sample, or one row of
    shipped spikes per step."""
    if config.input_spikes == "network":
        return (chunk_samples, INPUT_SIZE), PARAMS.T
    return (chunk_samples * PARAMS.steps, INPUT_SIZE), PARAMS.dt


def _namespace(config: GLSNNConfig) -> dict:
    return dict(n_steps=PARAMS.steps, batch=config.batch_size, tau_m=PARAMS.tau_m, tau_E=PARAMS.tau_E,
                V_L=PARAMS.V_L, V_E=PARAMS.V_E, V_th=PARAMS.V_th, V_reset=PARAMS.V_reset,
                g_L=PARAMS.g_leak, tau_out=PARAMS.tau_out, error_scale=config.error_scale, eta_t=config.eta_t,
                surrogate_width=config.surrogate_width, beta1=ADAM_BETA1, beta2=ADAM_BETA2, adam_eps=ADAM_EPS)


STRUCTURE_FIELDS = ("reading", "conductance_step", "readout", "output_readout", "postsynaptic_factor", "surrogate_width", "optimizer",
                    "encoding", "input_spikes", "batch_size", "error_scale", "eta_t")


def structure_key(config: GLSNNConfig, chunk_samples: int) -> str:
    fields = "|".join(f"{k}={getattr(config, k)}" for k in STRUCTURE_FIELDS)
    return f"glsnn|{source_digest(__file__)}|{source_digest(neurons.__file__)}|{config.layer_sizes}|{fields}|{PARAMS!r}|chunk={chunk_samples}"


def build(config: GLSNNConfig, chunk_samples: int) -> dict:
    """Brian2 objects of GLSNN for one chunk; call after bio.devices.activate()."""
    PARAMS.validate()
    sizes, batch = config.layer_sizes, config.batch_size
    ns = _namespace(config)
    n_layers = len(sizes) - 1
    spiking = config.reading == "spiking"
    conductance_output = spiking and config.output_readout == "conductance"
    factor = spiking and config.postsynaptic_factor == "surrogate"
    defaultclock.dt = PARAMS.dt
    seed(NETWORK_SEED)
    shape, stimulus_dt = stimulus_shape(config, chunk_samples)
    stimulus = TimedArray(np.zeros(shape), dt=stimulus_dt, name="stimulus")
    labels = TimedArray(np.zeros(chunk_samples), dt=PARAMS.T, name="labels")
    mean = config.readout == "mean"
    s_model, s_store = batch_slots("S_hist", "S_read", batch)
    d_model, d_store = batch_slots("d_hist", "d", batch)

    relays = NeuronGroup(sizes[0], RELAYS + s_model, threshold="S > 0.5", reset="", name="relays",
                         namespace={**ns, "stimulus": stimulus})
    relays.run_regularly(RELAY_DRIVE[f"{config.input_spikes} {config.encoding}"] + "\nS_sum += S",
                         when="thresholds", order=-1, name="relays_drive")
    relays.run_regularly(f"S_read = {'S_sum / n_steps' if mean else 'S'}\n" + s_store + "S_sum = S_sum * (1 - int(last_step))",
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
        if factor and not (is_output and conductance_output):
            target_code += "\nd = d * fac_sum / n_steps"                           # Eq. 7's postsynaptic factor
        read = "S_sum / n_steps" if mean else "S"
        update = glsnn_lif_step(config.conductance_step) + GLSNN_OUTPUT[config.reading] + "\nS_sum += S\n"
        if is_output and conductance_output:
            model += "g_sum : 1\n"
            read = "g_sum / n_steps" if mean else "g_E"
            update += "g_sum += g_E\n"
        binary_input = (spiking or l == 1) and (l > 1 or config.encoding == "bernoulli")
        update += f"S_read = {read}\n" + ("I = 0\n" if binary_input else "")   # event-driven I is used once
        layer = NeuronGroup(sizes[l], model, threshold="spike > 0.5", reset="", events={"batch_end": "batch_end"},
                            name=f"layer{l}", namespace={**ns, "label": labels})
        layer.thresholder["spike"].when, layer.thresholder["spike"].order = "synapses", 3 * l + 1
        layer.thresholder["batch_end"].when, layer.thresholder["batch_end"].order = "end", 4
        layer.run_regularly(update, when="synapses", order=3 * l, name=f"layer{l}_eq3")
        layer.run_regularly(target_code, when="end", order=0 if is_output else 2, name=f"layer{l}_target")
        layer.run_regularly(d_store + ("" if is_output else s_store), when="end", order=3, name=f"layer{l}_store")
        layer.run_regularly(RESET + ("g_sum = g_sum * (1 - int(last_step))\n" if is_output and conductance_output else ""),
                            when="end", order=6, name=f"layer{l}_reset")

        model = "w : 1\neta_w : 1 (shared, constant)\n"
        if config.optimizer == "adam":
            model += "m : 1\nv : 1\nadam_updates : 1 (shared, constant)\n"
        model += "back_pre = w * err_post : 1 (summed)\n" if is_output and n_layers > 1 else ""
        pathways = dict(on_post={"post": local_rule(config)}, on_event={"post": "batch_end"}, name=f"W{l}", namespace=ns)
        if binary_input:
            syn = Synapses(groups[-1], layer, model, on_pre={"pre": "I_post += w"}, **pathways)
            syn.pre.when, syn.pre.order = "synapses", 3 * l - 1
        else:
            syn = Synapses(groups[-1], layer, model + "I_post = w * S_pre : 1 (summed)\n", **pathways)
            syn.summed_updaters["I_post"].when, syn.summed_updaters["I_post"].order = "synapses", 3 * l - 1
        if is_output and n_layers > 1:
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
            "forward": forward, "feedback": feedback, "scores": scores, "steps": PARAMS.steps}
