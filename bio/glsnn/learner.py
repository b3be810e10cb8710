"""GLSNN on the shared training loop: weights live in numpy between chunks and travel by run_args."""
from __future__ import annotations

import numpy as np

from snnsuite.data import Split
from snnsuite.encoders import make_encoder
from snnsuite.records import dense_network_size
from snnsuite.training import Evaluation

from ..engine import ChunkEngine
from . import network
from .config import GLSNNConfig


def orthogonal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """A random (n_in, n_out) matrix with orthonormal rows or columns ("as DTP", Lee et al. 2015)."""
    q, r = np.linalg.qr(rng.standard_normal((max(n_in, n_out), min(n_in, n_out))))
    q *= np.sign(np.diag(r))  # uniform over the orthogonal group
    return q if n_in >= n_out else q.T


def initial_state(config: GLSNNConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([config.seed, 1])
    sizes = config.layer_sizes
    state = {f"W{l}": orthogonal(sizes[l - 1], sizes[l], rng) for l in range(1, len(sizes))}
    for l in range(1, len(sizes) - 2):  # hidden layers below the penultimate get random feedback (Eq. 6)
        std = config.feedback_std * config.eta_t / np.sqrt(sizes[l])
        state[f"B{l}"] = rng.normal(0, std, (sizes[-1], sizes[l]))
        state[f"b{l}"] = rng.uniform(-config.feedback_bias_scale, config.feedback_bias_scale, sizes[l])
    return state


class GLSNNLearner:
    def __init__(self, config: GLSNNConfig, runtime_target: str = "cython"):
        """`runtime_target` is the code generation target of the runtime device: cython runs
        faster, numpy starts at once (notebooks add monitors to a runtime network)."""
        self.config = config
        self.device = f"brian2-{config.device}" + (f"-{config.threads or 1}thread" if config.device == "cpp" else "")
        self.encoder = make_encoder(config.encoding, network.PARAMS.steps)
        self.params = initial_state(config)
        # Compiled here, once (the config is already validated): the build stays out of the
        # training time and is reported in the engine's timings.
        self.engine = ChunkEngine(config.device, lambda n: network.build(config, n), config.chunk_samples,
                                  network.PARAMS.T, network.structure_key(config, config.chunk_samples),
                                  threads=config.threads or None, runtime_target=runtime_target)

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.params = {k: np.array(v) for k, v in state.items()}

    def present(self, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, learn: bool) -> tuple[np.ndarray, int]:
        """Present one chunk; returns the output scores and the spike count of its samples.

        A short chunk is padded with blank samples. They change nothing: with no input every S is
        0 (Eq. 3 has no bias), every term S_j d_i of Eq. 7 vanishes and no neuron spikes.
        """
        h = self.engine.handles
        n, chunk = len(images), self.config.chunk_samples
        spikes = np.zeros((chunk, network.PARAMS.steps, images.shape[1]))
        spikes[:n] = np.swapaxes(self.encoder(images, rng), 0, 1)
        padded_labels = np.zeros(chunk)
        padded_labels[:n] = labels
        values = {h["stimulus"]: spikes.reshape(chunk * network.PARAMS.steps, -1), h["labels"]: padded_labels}
        for l, syn in enumerate(h["forward"], start=1):
            values[syn.w] = self.params[f"W{l}"].ravel()
            values[syn.eta_w] = self.config.eta_w if learn and self.config.learns(l) else 0.0
        for l, syn in enumerate(h["feedback"], start=1):
            values[syn.B] = self.params[f"B{l}"].ravel()
            values[h["layers"][l - 1].fb_bias] = self.params[f"b{l}"]
        for layer in h["layers"]:
            values[layer.spike_count] = np.zeros(len(layer))
        self.engine.run(values)
        if learn:
            for l, syn in enumerate(h["forward"], start=1):
                self.params[f"W{l}"] = np.asarray(syn.w[:]).reshape(self.params[f"W{l}"].shape)
        scores = np.asarray(h["scores"].S_read[:])[:, network.PARAMS.steps - 1::network.PARAMS.steps].T[:n]
        spike_total = int(sum(np.asarray(layer.spike_count[:]).sum() for layer in h["layers"]))
        return scores, spike_total

    def _chunks(self, n: int):
        step = self.config.chunk_samples
        return [(s, min(s + step, n)) for s in range(0, n, step)]

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        # Whole batches only: the compiled network applies Eq. 8 every batch_size samples.
        n = len(split) - len(split) % self.config.batch_size
        order = rng.permutation(len(split))[:n]
        images = split.images.reshape(len(split), -1)
        correct = 0
        for start, stop in progress(self._chunks(n), desc="train", unit="chunk"):
            idx = order[start:stop]
            scores, _ = self.present(images[idx], split.labels[idx], rng, learn=True)
            correct += int((scores.argmax(1) == split.labels[idx]).sum())
        return {"train_accuracy": 100.0 * correct / n, "train_samples": n}

    def evaluate(self, split: Split, progress) -> Evaluation:
        rng = np.random.default_rng([self.config.seed, 2])  # the same encoded test set every time
        images = split.images.reshape(len(split), -1)
        predictions, spikes = [], 0
        for start, stop in progress(self._chunks(len(split)), desc="eval", unit="chunk"):
            scores, count = self.present(images[start:stop], split.labels[start:stop], rng, learn=False)
            predictions.append(scores.argmax(1))
            spikes += count
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)

    def network_size(self) -> dict:
        return dense_network_size(self.config.layer_sizes)

    def summary_extras(self) -> dict:
        return {"engine": self.engine.timings.as_dict(), "layer_sizes": list(self.config.layer_sizes)}
