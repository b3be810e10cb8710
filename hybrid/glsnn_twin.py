"""GLSNN's discrete equations (glsnn.md Eq. 3-8) written again, independently, in torch.

It is the cross-check of the Brian2 network (tests compare spike counts, layer outputs and weight
updates) and its speed reference; it also calibrates the initial weight scale of the spiking
reading for both engines, so that both start from the same weights. A batch is simulated in
parallel: the Brian2 network presents the samples of a batch one after another, but its weights
change only at the batch end (Eq. 8), so both see the same weights for every sample of a batch.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from bio.glsnn.learning import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, SilentLayerGuard, calibrate_once, layer_rates, optimizer_state, summary_extras
from bio.parameters import GLSNNNeuronParams
from snnsuite.data import Split
from snnsuite.encoders import make_encoder
from snnsuite.errors import SuiteError
from snnsuite.records import dense_network_size
from snnsuite.training import Evaluation

P = GLSNNNeuronParams()


class GLSNNTwin:
    def __init__(self, config, params: dict[str, np.ndarray]):
        self.config = config
        self.load_state({**params, **optimizer_state(config, params)})
        self.encoder = make_encoder(config.encoding, P.steps)
        self.device = f"torch-cpu-{torch.get_num_threads()}threads"
        self.layer_rates: list[float] = []

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.numpy().copy() for k, v in self.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.params = {k: torch.from_numpy(np.array(v, dtype=np.float64)) for k, v in state.items()}

    @property
    def n_layers(self) -> int:
        return len(self.config.layer_sizes) - 1

    @property
    def spiking(self) -> bool:
        return self.config.reading == "spiking"

    def forward(self, spikes: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor], list[int]]:
        """spikes (T, batch, 784) -> readout S of every layer (input first), the postsynaptic
        factor of every layer above the input (Eq. 7) and the spike count of every layer."""
        dt_m, dt_e = float(P.dt / P.tau_m), float(P.dt / P.tau_E)
        batch = spikes.shape[1]
        weights = [self.params[f"W{l}"] for l in range(1, self.n_layers + 1)]
        V = [torch.zeros(batch, w.shape[1], dtype=torch.float64) for w in weights]
        g = [torch.zeros_like(v) for v in V]
        factors = [torch.zeros_like(v) for v in V]
        sums = [torch.zeros(batch, spikes.shape[2], dtype=torch.float64)] + [torch.zeros_like(v) for v in V]
        last = list(sums)
        g_out_sum = torch.zeros_like(V[-1])
        counts = [0] * len(weights)
        updated_conductance = self.config.conductance_step == "updated"      # line 1 reads g_E(t+1)
        for t in range(P.steps):
            S = spikes[t].to(torch.float64)
            sums[0] = sums[0] + S
            last[0] = S
            for l, w in enumerate(weights):
                I = S @ w                                                    # sum_j w_ji S_j(t+1)
                g_next = g[l] + dt_e * (-g[l] + I)                           # Eq. 3, line 2
                g_line1 = g_next if updated_conductance else g[l]
                V_next = V[l] - dt_m * (V[l] - P.V_L + g_line1 / P.g_leak * (V[l] - P.V_E))   # Eq. 3, line 1
                g[l] = g_next
                spike = (V_next > P.V_th).to(torch.float64)                  # Eq. 3, line 3
                V[l] = torch.where(spike > 0, torch.full_like(V_next, P.V_reset), V_next)
                window = self.config.surrogate_width * P.V_th
                factors[l] = factors[l] + torch.clamp(1 - (V_next - P.V_th).abs() / window, min=0)
                S = spike if self.spiking else I + P.tau_out * spike         # Eq. 3, line 4 (printed)
                sums[l + 1] = sums[l + 1] + S
                last[l + 1] = S
                counts[l] += int(spike.sum())
            g_out_sum = g_out_sum + g[-1]
        mean = self.config.readout == "mean"
        reads = [s / P.steps for s in sums] if mean else last
        if self.spiking and self.config.output_readout == "conductance":
            reads[-1] = g_out_sum / P.steps if mean else g[-1]
        return reads, [f / P.steps for f in factors], counts

    def learning_signals(self, reads: list[torch.Tensor], factors: list[torch.Tensor], labels: torch.Tensor) -> list[torch.Tensor]:
        """d_l = S_l - S_hat_l for l = 1..L (Eq. 4-6), times the postsynaptic factor of Eq. 7
        where the spiking reading asks for it."""
        target = torch.nn.functional.one_hot(labels, reads[-1].shape[1]).to(torch.float64)
        d_out = reads[-1] - target
        e = self.config.error_scale * d_out                                  # Eq. 4
        d = [None] * self.n_layers
        d[-1] = d_out
        if self.n_layers >= 2:
            d[-2] = self.config.eta_t * e @ self.params[f"W{self.n_layers}"].T   # Eq. 5
        for l in range(1, self.n_layers - 1):
            d[l - 1] = e @ self.params[f"B{l}"] + self.params[f"b{l}"]        # Eq. 6
        if self.spiking and self.config.postsynaptic_factor == "surrogate":
            spiking_output = self.config.output_readout == "rate"
            d = [d_l * f if l < self.n_layers - 1 or spiking_output else d_l for l, (d_l, f) in enumerate(zip(d, factors))]
        return d

    def update(self, reads, d) -> None:
        batch = reads[0].shape[0]
        adam = self.config.optimizer == "adam"
        if adam:
            self.params["adam_updates"] += 1
        for l in filter(self.config.learns, range(1, self.n_layers + 1)):
            key = f"W{l}"
            gradient = reads[l - 1].T @ d[l - 1] / batch                     # Eq. 7, averaged over the batch
            if adam:
                m, v, n = self.params[f"m{key}"], self.params[f"v{key}"], float(self.params["adam_updates"])
                m.mul_(ADAM_BETA1).add_((1 - ADAM_BETA1) * gradient)
                v.mul_(ADAM_BETA2).add_((1 - ADAM_BETA2) * gradient ** 2)
                step = m / (1 - ADAM_BETA1 ** n) / (torch.sqrt(v / (1 - ADAM_BETA2 ** n)) + ADAM_EPS)
                self.params[key] -= self.config.eta_w * step                 # Eq. 8 with Adam's step
            else:
                self.params[key] -= self.config.eta_w * gradient             # Eq. 8

    @torch.no_grad()
    def calibrate(self, images: np.ndarray, rng: np.random.Generator) -> list[float]:
        """Scale each layer's weights, bottom up, until its mean spike rate on `images` lies in
        config.init_rate_range (bisection on a log scale); returns the rates reached. The output
        layer is left as initialised where it is read by its conductance."""
        low, high = self.config.init_rate_range
        spikes = torch.from_numpy(self.encoder(images, rng))
        layers = self.n_layers - (self.config.output_readout == "conductance")
        rates = []
        for l in range(1, layers + 1):
            base = self.params[f"W{l}"].clone()
            log_low, log_high = math.log(1e-2), math.log(1e4)
            for _ in range(60):
                gain = math.exp((log_low + log_high) / 2)
                self.params[f"W{l}"] = base * gain
                rate = layer_rates(self.config, self.forward(spikes)[2], len(images), P.steps)[l - 1]
                if low <= rate <= high:
                    break
                log_low, log_high = (log_low, math.log(gain)) if rate > high else (math.log(gain), log_high)
            else:
                raise SuiteError(f"init_rate_range={self.config.init_rate_range}: no weight scale in [1e-2, 1e4] brings layer {l} "
                                 f"into it (last rate {rate:.4f}); each layer adds a step of delay within the T = {P.steps} steps")
            rates.append(rate)
        return rates

    def network_size(self) -> dict:
        return dense_network_size(self.config.layer_sizes)

    def summary_extras(self) -> dict:
        return summary_extras(self)

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        calibrate_once(self, split)
        batch = self.config.batch_size
        n = len(split) - len(split) % batch
        order = rng.permutation(len(split))[:n]
        images = split.images.reshape(len(split), -1)
        guard = SilentLayerGuard(self.config)
        correct, totals = 0, np.zeros(self.n_layers)
        chunk = self.config.chunk_samples  # encode as the Brian2 learner does: same spikes for the same rng
        for start in progress(range(0, n, chunk), desc="train", unit="chunk"):
            idx = order[start:start + chunk]
            spikes = torch.from_numpy(self.encoder(images[idx], rng))
            chunk_counts = np.zeros(self.n_layers)
            for b in range(0, len(idx), batch):
                labels = torch.from_numpy(split.labels[idx[b:b + batch]])
                reads, factors, counts = self.forward(spikes[:, b:b + batch])
                correct += int((reads[-1].argmax(1) == labels).sum())
                self.update(reads, self.learning_signals(reads, factors, labels))
                chunk_counts += counts
            guard.observe(layer_rates(self.config, chunk_counts, len(idx), P.steps), len(idx))
            totals += chunk_counts
        self.layer_rates = layer_rates(self.config, totals, n, P.steps)
        return {"train_accuracy": 100.0 * correct / n, "train_samples": n, "layer_rates": self.layer_rates}

    @torch.no_grad()
    def evaluate(self, split: Split, progress) -> Evaluation:
        rng = np.random.default_rng([self.config.seed, 2])
        images = split.images.reshape(len(split), -1)
        predictions, spikes = [], 0
        for start in progress(range(0, len(split), self.config.chunk_samples), desc="eval", unit="chunk"):
            encoded = torch.from_numpy(self.encoder(images[start:start + self.config.chunk_samples], rng))
            reads, _, counts = self.forward(encoded)
            predictions.append(reads[-1].argmax(1).numpy())
            spikes += sum(counts)
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)
