"""The shared loop: model selection on validation, resume equivalence, divergence handling."""
import json

import numpy as np
import pytest

from snnsuite.errors import DivergenceError, SuiteError
from snnsuite.files import load_arrays
from snnsuite.training import train


class Interrupt(Exception):
    pass


def _stbp(**overrides):
    from hybrid.stbp import STBPConfig, make_learner

    values = dict(hidden=(32,), time_steps=4, epochs=3, batch_size=50, train_samples=300,
                  validation_samples=200, test_samples=200)
    config = STBPConfig.from_dict({**values, **overrides})
    return config, make_learner


def _glsnn(**overrides):
    from bio.glsnn import GLSNNConfig, make_learner

    values = dict(hidden=(16,), epochs=3, chunk_samples=100, train_samples=200,
                  validation_samples=100, test_samples=100, device="torch", optimizer="adam", eta_w=1e-3)
    config = GLSNNConfig.from_dict({**values, **overrides})
    return config, make_learner


def _interrupting(learner, at_epoch):
    original, calls = learner.train_epoch, []

    def train_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == at_epoch:
            raise Interrupt
        return original(*args, **kwargs)

    learner.train_epoch = train_epoch
    return learner


def _glsnn_brian2(**overrides):
    return _glsnn(device="cpp", **overrides)


# The loop's tests run GLSNN on its torch twin (the same learner protocol, no compile); the
# compiled network's state round trip through run_args is the slow case.
@pytest.mark.parametrize("factory, side", [(_stbp, "hybrid"), (_glsnn, "bio"),
                                           pytest.param(_glsnn_brian2, "bio", marks=pytest.mark.slow)])
def test_resumed_run_ends_with_the_same_weights(mnist, tmp_path, factory, side):
    config, make_learner = factory()
    whole = make_learner(config)
    train("m", side, config, mnist, whole, tmp_path / "whole", log=lambda _: None)

    config, make_learner = factory()
    with pytest.raises(Interrupt):
        train("m", side, config, mnist, _interrupting(make_learner(config), at_epoch=2), tmp_path / "cut", log=lambda _: None)
    resumed = make_learner(config)
    summary = train("m", side, config, mnist, resumed, tmp_path / "cut", log=lambda _: None)

    assert summary["epochs"] == 3
    a, b = whole.state(), resumed.state()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_test_accuracy_comes_from_the_validation_selected_epoch(mnist, tmp_path):
    config, make_learner = _stbp()
    summary = train("stbp", "hybrid", config, mnist, make_learner(config), tmp_path / "r", log=lambda _: None)
    metrics = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    best = max(metrics, key=lambda row: row["validation_accuracy"])
    assert summary["selected_epoch"] == best["epoch"]
    assert summary["validation_accuracy"] == best["validation_accuracy"]
    saved = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert saved["test_samples"] == 200
    # Independently: the checkpoint's best state, loaded into a fresh learner, scores the same on
    # the test images, and the last epoch's state (when it is not the best) is a different model.
    arrays = load_arrays(tmp_path / "r" / "checkpoint.npz")
    progress = json.loads(arrays["progress"].tobytes().decode())
    best = {k[5:]: v for k, v in arrays.items() if k.startswith("best/")}
    last = {k[5:]: v for k, v in arrays.items() if k.startswith("last/")}
    assert progress["best_epoch"] == summary["selected_epoch"]
    fresh = make_learner(config)
    fresh.load_state(best)
    assert fresh.evaluate(mnist.test.head(200), lambda it, **_: it).accuracy == saved["test_accuracy"]
    if summary["selected_epoch"] != config.epochs:
        assert any(not np.array_equal(last[k], best[k]) for k in best)


class _PeakingLearner:
    """A learner whose state is the number of epochs trained: validation peaks after epoch 2 of 4,
    and the test accuracy tells which state was evaluated."""

    device = "cpu"

    def __init__(self):
        self.epochs = np.zeros(())

    def train_epoch(self, split, rng, progress):
        self.epochs = self.epochs + 1
        return {}

    def evaluate(self, split, progress):
        from snnsuite.training import Evaluation

        epochs = int(self.epochs)
        accuracy = 90.0 - abs(epochs - 2) if len(split) == 200 else 10.0 * epochs   # validation: 200 images
        return Evaluation(accuracy, 0.0, np.zeros(len(split), dtype=np.int64))

    def state(self):
        return {"epochs": self.epochs.copy()}

    def load_state(self, state):
        self.epochs = np.array(state["epochs"])

    def network_size(self):
        return {"parameters": 0, "neurons": 0}


def test_the_summary_reports_the_test_accuracy_of_the_validation_best_state(mnist, tmp_path):
    config, _ = _stbp(epochs=4, test_samples=300)
    summary = train("stbp", "hybrid", config, mnist, _PeakingLearner(), tmp_path / "p", log=lambda _: None)
    assert summary["selected_epoch"] == 2 and summary["validation_accuracy"] == 90.0
    assert summary["test_accuracy"] == 20.0   # the state after epoch 2, not the last one (40.0)


def test_without_a_hold_out_every_training_image_is_used_and_the_last_epoch_kept(data_dir, tmp_path):
    from snnsuite.data import load

    full = load("mnist", data_dir, validation_size=0)
    assert len(full.train) == 60_000 and len(full.validation) == 0
    config, make_learner = _stbp(epochs=2, hold_out_validation=False, validation_samples=None)
    learner = make_learner(config)
    summary = train("stbp", "hybrid", config, full, learner, tmp_path / "r", log=lambda _: None)
    assert (summary["selected_epoch"], summary["validation_accuracy"], summary["validation_samples"]) == (2, None, 0)
    kept = learner.state()
    from snnsuite.files import load_arrays

    last = {k[5:]: v for k, v in load_arrays(tmp_path / "r" / "checkpoint.npz").items() if k.startswith("last/")}
    for key in last:
        np.testing.assert_array_equal(kept[key], last[key], err_msg=key)


def test_hold_out_setting_must_match_the_loaded_dataset(mnist, tmp_path):
    config, make_learner = _stbp(hold_out_validation=False, validation_samples=None)
    with pytest.raises(SuiteError, match=r"hold_out_validation=False: the dataset holds 5000 validation images; load it with data.load\(..., validation_size=0\)"):
        train("stbp", "hybrid", config, mnist, make_learner(config), tmp_path / "r", log=lambda _: None)
    with pytest.raises(SuiteError, match="validation_samples=200: there is no validation split"):
        _stbp(hold_out_validation=False)


@pytest.mark.parametrize("factory, side, parameters, neurons", [
    (_stbp, "hybrid", 784 * 32 + 32 + 32 * 10 + 10, 32 + 10),   # weights and biases
    (_glsnn, "bio", 784 * 16 + 16 * 10, 16 + 10),               # GLSNN has no biases (Eq. 3)
])
def test_summary_counts_the_network_and_the_test_confusion(mnist, tmp_path, factory, side, parameters, neurons):
    config, make_learner = factory(epochs=1)
    summary = train("m", side, config, mnist, make_learner(config), tmp_path / "r", log=lambda _: None)
    assert (summary["parameters"], summary["neurons"]) == (parameters, neurons)
    confusion = np.array(summary["test_confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == summary["test_samples"]
    assert np.bincount(mnist.test.labels[:summary["test_samples"]], minlength=10).tolist() == confusion.sum(1).tolist()
    assert 100 * np.trace(confusion) / confusion.sum() == pytest.approx(summary["test_accuracy"])


def test_same_seed_same_result(mnist, tmp_path):
    runs = []
    for name in ("a", "b"):
        config, make_learner = _stbp(epochs=1)
        learner = make_learner(config)
        train("stbp", "hybrid", config, mnist, learner, tmp_path / name, log=lambda _: None)
        runs.append(learner.state())
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


def test_divergence_stops_and_keeps_the_last_good_checkpoint(mnist, tmp_path):
    config, make_learner = _stbp(epochs=3)
    learner = _interrupting(make_learner(config), at_epoch=99)
    original = learner.train_epoch
    calls = []

    def poisoned(*args, **kwargs):
        calls.append(1)
        out = original(*args, **kwargs)
        if len(calls) == 2:
            with np.errstate(all="ignore"):
                next(learner.model.parameters()).data.fill_(float("nan"))
        return out

    learner.train_epoch = poisoned
    with pytest.raises(DivergenceError, match="non-finite"):
        train("stbp", "hybrid", config, mnist, learner, tmp_path / "r", log=lambda _: None)
    from snnsuite.files import load_arrays

    kept = load_arrays(tmp_path / "r" / "checkpoint.npz")
    assert all(np.isfinite(v).all() for k, v in kept.items() if k.startswith("last/model/"))
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 1


def test_time_budget_stops_before_an_epoch_that_would_exceed_it(mnist, tmp_path):
    config, make_learner = _stbp(epochs=50, time_budget_minutes=1e-9)
    summary = train("stbp", "hybrid", config, mnist, make_learner(config), tmp_path / "r", log=lambda _: None)
    assert summary["epochs"] == 1   # the first epoch has no pace to judge by; the second would exceed


def test_finish_writes_the_summary_of_a_stopped_run_without_training(mnist, tmp_path):
    config, make_learner = _stbp(epochs=3)
    with pytest.raises(Interrupt):
        train("stbp", "hybrid", config, mnist, _interrupting(make_learner(config), at_epoch=3), tmp_path / "r",
              log=lambda _: None)
    learner = _interrupting(make_learner(config), at_epoch=1)   # any training would raise
    summary = train("stbp", "hybrid", config, mnist, learner, tmp_path / "r", log=lambda _: None, finish=True)
    metrics = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert summary["epochs"] == 2
    assert summary["validation_accuracy"] == max(row["validation_accuracy"] for row in metrics)
    with pytest.raises(SuiteError, match="no checkpoint"):
        train("stbp", "hybrid", config, mnist, make_learner(config), tmp_path / "empty", log=lambda _: None, finish=True)
