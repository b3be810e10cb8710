"""GLSNN's discrete equations (glsnn.md Eq. 3-8) written again, independently, in torch.

It is the cross-check of the Brian2 network (tests compare layer outputs and weight updates) and
its speed reference. A batch is simulated in parallel: the Brian2 network presents the samples of
a batch one after another, but its weights change only at the batch end (Eq. 8), so both see
the same weights for every sample of a batch.
"""
from __future__ import annotations

import numpy as np
import torch

from bio.parameters import GLSNNNeuronParams
from snnsuite.data import Split
from snnsuite.encoders import make_encoder
from snnsuite.records import dense_network_size
from snnsuite.training import Evaluation

P = GLSNNNeuronParams()


class GLSNNTwin:
    def __init__(self, config, params: dict[str, np.ndarray]):
        self.config = config
        self.load_state(params)
        self.encoder = make_encoder(config.encoding, P.steps)
        self.device = f"torch-cpu-{torch.get_num_threads()}threads"

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.numpy().copy() for k, v in self.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.params = {k: torch.from_numpy(np.array(v, dtype=np.float64)) for k, v in state.items()}

    @property
    def n_layers(self) -> int:
        return len(self.config.layer_sizes) - 1

    def forward(self, spikes: torch.Tensor) -> tuple[list[torch.Tensor], int]:
        """spikes (T, batch, 784) -> readout S of every layer (input first) and the spike count."""
        dt_m, dt_e = float(P.dt / P.tau_m), float(P.dt / P.tau_E)
        batch = spikes.shape[1]
        weights = [self.params[f"W{l}"] for l in range(1, self.n_layers + 1)]
        V = [torch.zeros(batch, w.shape[1], dtype=torch.float64) for w in weights]
        g = [torch.zeros_like(v) for v in V]
        sums = [torch.zeros(batch, spikes.shape[2], dtype=torch.float64)] + [torch.zeros_like(v) for v in V]
        last = list(sums)
        count = 0
        for t in range(P.steps):
            S = spikes[t].to(torch.float64)
            sums[0] = sums[0] + S
            last[0] = S
            for l, w in enumerate(weights):
                I = S @ w                                                    # sum_j w_ji S_j(t+1)
                V_next = V[l] - dt_m * (V[l] - P.V_L + g[l] / P.g_leak * (V[l] - P.V_E))   # Eq. 3, line 1
                g[l] = g[l] + dt_e * (-g[l] + I)                             # Eq. 3, line 2
                spike = (V_next > P.V_th).to(torch.float64)                  # Eq. 3, line 3
                V[l] = torch.where(spike > 0, torch.full_like(V_next, P.V_reset), V_next)
                S = I + P.tau_out * spike                                    # Eq. 3, line 4
                sums[l + 1] = sums[l + 1] + S
                last[l + 1] = S
                count += int(spike.sum())
        reads = [s / P.steps for s in sums] if self.config.readout == "mean" else last
        return reads, count

    def learning_signals(self, reads: list[torch.Tensor], labels: torch.Tensor) -> list[torch.Tensor]:
        """d_l = S_l - S_hat_l for l = 1..L (Eq. 4-6)."""
        target = torch.nn.functional.one_hot(labels, reads[-1].shape[1]).to(torch.float64)
        d_out = reads[-1] - target
        e = self.config.error_scale * d_out                                  # Eq. 4
        d = [None] * self.n_layers
        d[-1] = d_out
        if self.n_layers >= 2:
            d[-2] = self.config.eta_t * e @ self.params[f"W{self.n_layers}"].T   # Eq. 5
        for l in range(1, self.n_layers - 1):
            d[l - 1] = e @ self.params[f"B{l}"] + self.params[f"b{l}"]        # Eq. 6
        return d

    def update(self, reads, d) -> None:
        batch = reads[0].shape[0]
        for l in filter(self.config.learns, range(1, self.n_layers + 1)):
            delta_w = reads[l - 1].T @ d[l - 1]                              # Eq. 7, summed over the batch
            self.params[f"W{l}"] -= self.config.eta_w * delta_w / batch      # Eq. 8

    def network_size(self) -> dict:
        return dense_network_size(self.config.layer_sizes)

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        batch = self.config.batch_size
        n = len(split) - len(split) % batch
        order = rng.permutation(len(split))[:n]
        images = split.images.reshape(len(split), -1)
        correct = 0
        chunk = self.config.chunk_samples  # encode as the Brian2 learner does: same spikes for the same rng
        for start in progress(range(0, n, chunk), desc="train", unit="chunk"):
            idx = order[start:start + chunk]
            spikes = torch.from_numpy(self.encoder(images[idx], rng))
            for b in range(0, len(idx), batch):
                labels = torch.from_numpy(split.labels[idx[b:b + batch]])
                reads, _ = self.forward(spikes[:, b:b + batch])
                correct += int((reads[-1].argmax(1) == labels).sum())
                self.update(reads, self.learning_signals(reads, labels))
        return {"train_accuracy": 100.0 * correct / n, "train_samples": n}

    @torch.no_grad()
    def evaluate(self, split: Split, progress) -> Evaluation:
        rng = np.random.default_rng([self.config.seed, 2])
        images = split.images.reshape(len(split), -1)
        predictions, spikes = [], 0
        for start in progress(range(0, len(split), self.config.chunk_samples), desc="eval", unit="chunk"):
            encoded = torch.from_numpy(self.encoder(images[start:start + self.config.chunk_samples], rng))
            reads, count = self.forward(encoded)
            predictions.append(reads[-1].argmax(1).numpy())
            spikes += count
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)
