"""Runs against papers: the markdown table that the README shows."""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from .errors import SuiteError
from .files import atomic_write_bytes
from .records import find_summaries

README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def paper_results() -> list[dict]:
    return json.loads(resources.files("snnsuite").joinpath("papers.json").read_text())


def _fmt(value, digits=2):
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _network(summary: dict) -> str:
    """The run's network as the papers write it, from what its config holds."""
    config = summary["config"]
    if "layer_sizes" in summary:
        return "-".join(map(str, summary["layer_sizes"]))
    for key in ("network", "structure"):
        if key in config:
            return str(config[key]) + (f" {config['neuron']}" if "neuron" in config else "")
    hidden = config.get("hidden", ())
    return "784-" + "-".join(map(str, (hidden,) if isinstance(hidden, int) else hidden)) + "-10"


# Run names of sweep and ablation presets: a sweep's prefix, or a swept gate kernel or simulation length.
SWEEP_RUN = re.compile(r"(ablation|inhibitory|latency|depth)-.*|.*-(kernel|T)\d+-.*")


def is_sweep(summary: dict) -> bool:
    """Runs of a sweep or an ablation (named by their preset) are tabled apart from the main runs."""
    return SWEEP_RUN.fullmatch(summary["run"].split("/")[-1]) is not None


def runs_table(runs_dir: str | Path) -> str:
    """One row per recorded main run, beside the paper's number for its network, or else the best
    paper number for its method and dataset.

    Energy is bpsta.md Eq. 11 where the method records it; parameters are trained weights and
    biases, neurons the spiking neurons (inputs excluded)."""
    papers = paper_results()
    rows = [
        "| method | side | dataset | network | run | test acc. (%) | paper (%) | epochs | train samples | train time (s) | samples/s "
        "| spikes/sample | energy SNN/ANN | parameters | neurons | device |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    summaries = [s for s in find_summaries(runs_dir) if not is_sweep(s)]
    for s in summaries:
        same_task = [p for p in papers if p["method"] == s["method"] and p["dataset"] == s["dataset"]]
        same_network = [p for p in same_task if p["network"] == _network(s)]   # else the best of the method
        paper = max((p["accuracy"] for p in same_network or same_task), default=None)
        test = _fmt(s["test_accuracy"]) + ("" if s["test_samples"] >= 10_000 else f" (on {s['test_samples']})")
        test += " (last epoch)" if s["validation_accuracy"] is None else ""
        rows.append(f"| {s['method']} | {s['side']} | {s['dataset']} | {_network(s)} | {s['run'].split('/')[-1]} | {test} | {_fmt(paper)} | "
                    f"{s['epochs']} | {s['train_samples']} | {_fmt(s['train_seconds'], 1)} | {_fmt(s['samples_per_second'], 1)} | "
                    f"{_fmt(s['spikes_per_sample'], 1)} | {_fmt(s.get('energy_snn_over_ann'), 3)} | {_fmt(s.get('parameters'))} | "
                    f"{_fmt(s.get('neurons'))} | {s['device']} |")
    return "\n".join(rows)


def sweeps_table(runs_dir: str | Path) -> str:
    """One row per sweep or ablation run."""
    rows = ["| method | dataset | network | run | test acc. (%) | test samples | epochs | train samples | train time (s) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows += [f"| {s['method']} | {s['dataset']} | {_network(s)} | {s['run'].split('/')[-1]} | {_fmt(s['test_accuracy'])} | "
             f"{s['test_samples']} | {s['epochs']} | {s['train_samples']} | {_fmt(s['train_seconds'], 1)} |"
             for s in find_summaries(runs_dir) if is_sweep(s)]
    return "\n".join(rows)


def papers_table() -> str:
    rows = ["| method | dataset | network | paper (%) | source |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| {p['method']} | {p['dataset']} | {p['network']} | {p['accuracy']:.2f} | {p['source']} |" for p in paper_results()]
    return "\n".join(rows)


BENCH_FIELDS = {
    "bio-engine": ("naive_samples_per_second", "engine_samples_per_second", "ratio"),
    "bio-glsnn": ("epoch_seconds", "epoch_seconds_1thread", "torch_epoch_seconds", "paper_gpu_epoch_seconds"),
    "reference-linear": ("mnist_test_accuracy", "fashion_mnist_test_accuracy"),
    "hybrid-ide-memory": ("ide_over_bptt_at_T30", "ide_broyden_over_bptt_at_T30", "ide_spread_over_T"),
    "hybrid-ide-gradient": ("lif_gradient_error_T5", "lif_gradient_error_T200"),
    "hybrid-lif": ("min_speedup_vs_fastest_peer",),
    "bio-balanced": ("samples_per_second_784_100_10", "samples_per_second_784_6400_10"),
}


def bench_table(runs_dir: str | Path) -> str:
    """Key figures of every saved benchmark (figures/runs/bench/*.json)."""
    rows = ["| benchmark | measured on | measured (fields of the JSON) |", "| --- | --- | --- |"]
    for path in sorted((Path(runs_dir) / "bench").glob("*.json")):
        bench = json.loads(path.read_text())
        fields = BENCH_FIELDS.get(path.stem, ())
        cores = bench.get("machine", {}).get("cores") or bench.get("environment", {}).get("cpu_count")
        where = f"GPU: {bench['gpu']}" if "gpu" in bench else f"CPU, {cores} cores"
        rows.append(f"| {path.stem} | {where} | " + ", ".join(f"{f} = {_fmt(bench[f], 3)}" for f in fields if f in bench) + " |")
    return "\n".join(rows)


def table(runs_dir: str | Path) -> str:
    """Runs, paper numbers and benchmarks: what `snn compare` prints and the README shows."""
    return (runs_table(runs_dir)
            + "\n\nSweeps and ablations (plotted by `snn figures`):\n\n" + sweeps_table(runs_dir)
            + "\n\nPaper numbers (kept as data in `snnsuite/papers.json`):\n\n" + papers_table()
            + "\n\nBenchmarks (`snn bench NAME`, saved in `figures/runs/bench/`):\n\n" + bench_table(runs_dir))


def update_readme(readme: str | Path, text: str) -> None:
    path = Path(readme)
    content = path.read_text()
    if README_START not in content or README_END not in content:
        raise SuiteError(f"README '{path}': lacks the markers {README_START} and {README_END}")
    new = re.sub(re.escape(README_START) + ".*?" + re.escape(README_END),
                 lambda _: f"{README_START}\n{text}\n{README_END}", content, flags=re.S)
    atomic_write_bytes(path, new.encode())
