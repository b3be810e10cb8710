"""The figures and comparison table regenerate from the committed run records, without training."""
from pathlib import Path

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
