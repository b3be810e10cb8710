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


def test_sweep_runs_are_told_from_main_runs():
    from snnsuite.compare import is_sweep

    sweeps = ("latency-T8-cpu-seed0", "depth-3-cpu-seed0", "fashion-D-kernel5-cpu-seed0", "fashion-D-T20-cpu-seed0",
              "ablation-7layers-fb2-cpu-seed0", "ablation-cpu-beim-seed0", "inhibitory-30-cpu-seed0")
    main = ("cpu60-seed0", "cpu60-torch-seed0", "cpu60-alpha0.2-seed0", "fashion-D-seed0", "mnist-E-seed0", "mlp800-seed0")
    assert all(is_sweep({"run": f"bio/glsnn/mnist/{name}"}) for name in sweeps)
    assert not any(is_sweep({"run": f"bio/glsnn/mnist/{name}"}) for name in main)


def test_least_squares_reference_equals_lstsq_and_separates_affine_classes():
    from figures.bench import least_squares_readouts, predict_affine

    rng = np.random.default_rng(0)
    images = rng.random((400, 6, 6))
    labels = (images.reshape(400, -1) @ rng.normal(size=(36, 3)) + rng.normal(size=3)).argmax(1)
    weights = least_squares_readouts(images, labels, (0.0,))[0.0]
    design = np.hstack([images.reshape(400, -1), np.ones((400, 1))])
    expected = np.linalg.lstsq(design, np.eye(3)[labels], rcond=None)[0]
    np.testing.assert_allclose(weights, expected, rtol=1e-8, atol=1e-10)
    assert (predict_affine(weights, images) == labels).mean() > 0.8
