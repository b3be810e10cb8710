"""The figures and comparison table regenerate from the committed run records, without training."""
from pathlib import Path

import numpy as np

from figures.make import make_all
from snnsuite.compare import README_END, README_START, table

RUNS = Path(__file__).resolve().parents[1] / "figures" / "runs"


def test_every_figure_regenerates(tmp_path):
    paths = make_all(RUNS, tmp_path)
    names = {p.name for p in paths}
    assert {"stp_dynamics.png", "ide_convergence.png", "stp_dynamics.pdf"} <= names
    assert all(p.stat().st_size > 1000 for p in paths)


def test_readme_table_is_the_compare_output():
    readme = (RUNS.parents[1] / "README.md").read_text()
    generated = readme.split(README_START)[1].split(README_END)[0].strip()
    assert generated == table(RUNS).strip()


def test_confusion_figure_uses_only_runs_that_recorded_one(tmp_path):
    from figures.make import figure_confusion
    from snnsuite.files import atomic_write_json

    base = {"side": "hybrid", "dataset": "mnist", "test_accuracy": 50.0}
    atomic_write_json(tmp_path / "hybrid/stbp/mnist/old-seed0/summary.json", {**base, "method": "stbp"})
    assert figure_confusion(tmp_path, tmp_path / "out") == []
    confusion = (np.eye(10) * 5 + 5 * np.roll(np.eye(10), 1, axis=1)).astype(int).tolist()
    atomic_write_json(tmp_path / "hybrid/stbp/mnist/new-seed0/summary.json", {**base, "method": "stbp", "test_confusion": confusion})
    assert [p.name for p in figure_confusion(tmp_path, tmp_path / "out")] == ["confusion.png", "confusion.pdf"]
