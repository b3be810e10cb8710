"""The torch side of the shared training loop: one learner for every surrogate-gradient model.

A model maps (T, batch, ...) input to (T, batch, classes) output spikes; forward() sets
`model.spike_count` (a tensor) and `model.neurons` (its spiking neurons). State goes to and from
numpy, so checkpoints hold only named arrays (no pickle).
"""
from __future__ import annotations

import json
import math

import numpy as np
import torch
import torch.nn.functional as F

from snnsuite.data import Split
from snnsuite.encoders import make_encoder
from snnsuite.errors import DivergenceError
from snnsuite.training import Evaluation


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    sd = optimizer.state_dict()
    out = {"optimizer/param_groups": np.frombuffer(json.dumps(sd["param_groups"]).encode(), dtype=np.uint8)}
    for index, slots in sd["state"].items():
        for key, value in slots.items():
            out[f"optimizer/state/{index}/{key}"] = torch.as_tensor(value).detach().cpu().numpy()
    return out


def _unflatten_optimizer(arrays: dict[str, np.ndarray]) -> dict:
    state: dict[int, dict] = {}
    for name, value in arrays.items():
        parts = name.split("/")
        if parts[:2] == ["optimizer", "state"]:
            state.setdefault(int(parts[2]), {})[parts[3]] = torch.from_numpy(np.array(value))
    groups = json.loads(arrays["optimizer/param_groups"].tobytes().decode())
    return {"state": state, "param_groups": groups}


class TorchLearner:
    """Surrogate-gradient training by default: the model maps encoded (T, batch, ...) input to
    output spikes, read out as mean rates. Subclasses change how inputs are made, how the output
    is scored and read (`_inputs`, `loss`, `predict`, `count_spikes`, `batch_stats`)."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, config, scheduler=None):
        self.model, self.optimizer, self.scheduler, self.config = model, optimizer, scheduler, config
        self.encoder = make_encoder(config.encoding, config.time_steps) if hasattr(config, "encoding") else None
        self.device = f"torch-cpu-{torch.get_num_threads()}threads"

    def state(self) -> dict[str, np.ndarray]:
        out = {f"model/{k}": v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        out.update(_flatten_optimizer(self.optimizer))
        if self.scheduler is not None:
            out["scheduler/last_epoch"] = np.array(self.scheduler.last_epoch)
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict({k[6:]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith("model/")})
        if "optimizer/param_groups" in state:
            self.optimizer.load_state_dict(_unflatten_optimizer(state))
        if self.scheduler is not None and "scheduler/last_epoch" in state:
            self.scheduler.last_epoch = int(state["scheduler/last_epoch"])
            for group, lr in zip(self.optimizer.param_groups, self.scheduler.get_last_lr()):
                group["lr"] = lr

    def _inputs(self, images: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        return self.encoder(torch.from_numpy(images), generator)

    def loss(self, output_spikes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """MSE between the mean output rate and the one-hot label (backeisnn.md Eq. 9, bpsta.md Eq. 5)."""
        rate = output_spikes.mean(0)
        return F.mse_loss(rate, F.one_hot(labels, rate.shape[-1]).to(rate.dtype))

    def forward(self, inputs):
        return self.model(inputs)

    def predict(self, output) -> torch.Tensor:
        return output.sum(0).argmax(1)

    def count_spikes(self, output) -> float:
        return float(self.model.spike_count)

    def network_size(self) -> dict:
        """Trained parameters and spiking neurons (the model counts its neurons in forward)."""
        return {"parameters": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
                "neurons": int(self.model.neurons)}

    def batch_stats(self, output) -> dict:
        """Per-batch diagnostics, averaged into the epoch's metrics."""
        return {}

    def train_epoch(self, split: Split, rng: np.random.Generator, progress) -> dict:
        seed = int(rng.integers(2**62))
        torch.manual_seed(seed)  # dropout and any other global-RNG use
        generator = torch.Generator().manual_seed(seed)
        order = rng.permutation(len(split))
        batch = self.config.batch_size
        self.model.train()
        total_loss, correct, diagnostics = 0.0, 0, []
        batches = range(0, len(split), batch)
        for start in progress(batches, desc="train", unit="batch"):
            idx = order[start:start + batch]
            labels = torch.from_numpy(split.labels[idx])
            out = self.forward(self._inputs(split.images[idx], generator))
            loss = self.loss(out, labels)
            if not math.isfinite(loss.item()):
                raise DivergenceError(f"training loss became {loss.item()} at sample {start}; the last good checkpoint is kept")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int((self.predict(out) == labels).sum())
            diagnostics.append(self.batch_stats(out))
        if self.scheduler is not None:
            self.scheduler.step()
        stats = {"train_loss": total_loss / len(split), "train_accuracy": 100.0 * correct / len(split),
                 "learning_rate": self.optimizer.param_groups[0]["lr"]}
        for key in diagnostics[0] if diagnostics else ():
            stats[key] = float(np.mean([d[key] for d in diagnostics]))
        return stats

    @torch.no_grad()
    def evaluate(self, split: Split, progress) -> Evaluation:
        generator = torch.Generator().manual_seed(self.config.seed + 1)  # same encoded set every time
        self.model.eval()
        predictions, spikes = [], 0.0
        for start in progress(range(0, len(split), 500), desc="eval", unit="batch"):
            out = self.forward(self._inputs(split.images[start:start + 500], generator))
            predictions.append(self.predict(out).numpy())
            spikes += self.count_spikes(out)
        predictions = np.concatenate(predictions)
        return Evaluation(100.0 * float((predictions == split.labels).mean()), spikes / len(split), predictions)
