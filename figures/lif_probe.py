"""One cell of the hybrid-lif benchmark, run in .bench-venv: forward+backward of the same spiking
MLP (784-512-512-10, LIF after every layer, direct input, batch 128) in one framework at one T.
Prints JSON: median seconds per step and peak memory above the pre-step level."""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

framework, steps = sys.argv[1], int(sys.argv[2])
REPEATS, BATCH, SIZES = 5, 128, (784, 512, 512, 10)
LAM, V_TH = 0.2, 0.5
torch.manual_seed(0)
images = torch.rand(BATCH, 784)
target = F.one_hot(torch.randint(0, 10, (BATCH,)), 10).float()

if framework == "snn-suite":
    from hybrid.stbp import SpikingMLP
    from hybrid.surrogates import Rectangular

    model = SpikingMLP(SIZES, LAM, V_TH, Rectangular(), fused=True, detach_reset=True)  # as the peers below

    def run():
        return model(images.unsqueeze(0).expand(steps, BATCH, 784)).mean(0)
elif framework == "snntorch":
    import snntorch as snn
    from snntorch import surrogate

    fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:]))
    lifs = [snn.Leaky(beta=LAM, threshold=V_TH, reset_mechanism="zero", spike_grad=surrogate.fast_sigmoid()) for _ in fcs]
    model = nn.ModuleList([*fcs, *lifs])

    def run():
        mems = [lif.init_leaky() for lif in lifs]
        total = 0
        for _ in range(steps):
            h = images
            for k, (fc, lif) in enumerate(zip(fcs, lifs)):
                h, mems[k] = lif(fc(h), mems[k])
            total = total + h
        return total / steps
else:
    from spikingjelly.activation_based import functional, layer, neuron

    blocks = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        blocks += [layer.Linear(a, b, step_mode="m"),
                   neuron.LIFNode(tau=1 / (1 - LAM), decay_input=False, v_threshold=V_TH, v_reset=0.0,
                                  detach_reset=True, step_mode="m")]  # torch multi-step (2.0 has no backend switch)
    model = nn.Sequential(*blocks)

    def run():
        functional.reset_net(model)
        return model(images.unsqueeze(0).repeat(steps, 1, 1)).mean(0)


def step():
    loss = F.mse_loss(run(), target)
    loss.backward()
    model.zero_grad(set_to_none=True)


def rss_kib(field):
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])


step()  # warm-up
times = []
for _ in range(REPEATS):
    began = time.perf_counter()
    step()
    times.append(time.perf_counter() - began)
open("/proc/self/clear_refs", "w").write("5")
before = rss_kib("VmRSS:")
step()
print(json.dumps({"seconds": statistics.median(times), "peak_mib": (rss_kib("VmHWM:") - before) / 1024,
                  "threads": torch.get_num_threads()}))
