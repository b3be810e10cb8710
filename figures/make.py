"""`snn figures`: every figure from recorded runs (and from the model equations where a figure
shows dynamics rather than results). Nothing here trains."""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from snnsuite.compare import is_sweep, paper_results  # noqa: E402
from snnsuite.records import find_summaries  # noqa: E402

STP_RATES_HZ = (5, 20, 50)
# balanced-tuning.md Sec. 5.3 (Fig. 7, iteration 100): MP only, MP + feed-forward, MP + FF + STP + 30% I.
PAPER_BALANCED_ABLATION = {"mp": 58.0, "mp-ff": 89.0, "mp-ff-stp-ei30": 97.9}
# bpsta.md Table 9, BPSA + BPTA against T: the paper's latency study is on DVS-Gesture, not MNIST.
PAPER_BPSTA_LATENCY_DVS = {4: 96.18, 8: 96.18, 16: 98.26, 32: 98.27}
# backeisnn.md Tables VI and VII, Fashion-MNIST in D coding with the paper's network and 200 epochs.
PAPER_BACKEISNN_KERNEL_D = {1: 92.77, 3: 93.45, 5: 93.12, 7: 92.37}
PAPER_BACKEISNN_STEPS_D = {10: 92.86, 20: 93.45, 30: 93.35, 40: 93.11}


def _save(fig, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def stp_traces(params, rate_hz: float, duration_s: float = 1.0, dt_s: float = 1e-4):
    """u(t), x(t) of Eq. 7-8 for a regular train, simulated by Brian2 (runtime device)."""
    from brian2 import Network, StateMonitor, TimedArray, defaultclock, second

    from bio.devices import activate
    from bio.neurons import input_relays

    activate("runtime", runtime_target="numpy")
    n_steps = int(round(duration_s / dt_s))
    spikes = np.zeros((n_steps, 1))
    spikes[:: int(round(1 / rate_hz / dt_s)), 0] = 1
    defaultclock.dt = dt_s * second
    relay = input_relays(1, TimedArray(spikes, dt=dt_s * second), mode="spikes", stp=params)
    monitor = StateMonitor(relay, ("u", "y"), record=0)
    Network(relay, monitor).run(duration_s * second)
    return monitor.t / second, monitor.u[0], 1 - monitor.y[0]


def figure_stp(out: Path) -> list[Path]:
    """balanced-tuning.md Fig. 6 analogue: u and x for trains of different frequencies."""
    from bio.parameters import STD, STF

    fig, axes = plt.subplots(2, len(STP_RATES_HZ), figsize=(12, 5), sharex=True, sharey=True)
    for row, (label, params) in enumerate((("STF (facilitating)", STF), ("STD (depressing)", STD))):
        for col, rate in enumerate(STP_RATES_HZ):
            t, u, x = stp_traces(params, rate)
            ax = axes[row, col]
            ax.plot(t, u, label="u (release probability)", color="tab:orange")
            ax.plot(t, x, label="x (available resources)", color="tab:blue")
            ax.plot(t, u * x, label="u·x (efficacy)", color="black", lw=0.8)
            ax.set_title(f"{label}, {rate} Hz", fontsize=10)
            ax.set_ylim(0, 1.02)
            if row == 1:
                ax.set_xlabel("time (s)")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Short-term plasticity (Eq. 7-8): STF U={STF.U}, tau_f={STF.tau_f}, tau_d={STF.tau_d}; "
                 f"STD U={STD.U}, tau_f={STD.tau_f}, tau_d={STD.tau_d}", fontsize=10)
    return _save(fig, out, "stp_dynamics")


def figure_learning_curves(runs_dir: Path, out: Path) -> list[Path]:
    """Validation accuracy against epochs for every recorded run, paper result as a dashed line."""
    summaries = find_summaries(runs_dir)
    if not summaries:
        return []
    papers = paper_results()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    # Sweeps have figures of their own; runs without a hold-out have no validation curve.
    for summary in (s for s in summaries if not is_sweep(s) and s["validation_accuracy"] is not None):
        metrics_path = runs_dir / summary["run"] / "metrics.jsonl"
        rows = [json.loads(line) for line in metrics_path.read_text().splitlines()]
        line, = ax.plot([r["epoch"] for r in rows], [r["validation_accuracy"] for r in rows], marker="o", ms=3,
                        label=f"{summary['method']} {summary['dataset']} ({summary['run'].split('/')[-1]})")
        for paper in papers:
            if paper["method"] == summary["method"] and paper["dataset"] == summary["dataset"]:
                ax.axhline(paper["accuracy"], ls="--", lw=0.8, color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Learning curves (dashed: paper test accuracy)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, out, "learning_curves")


def _named_runs(runs_dir: Path, method: str, pattern: str) -> dict[str, dict]:
    """Summaries of `method` whose run name matches `pattern` (a regex with one group), by that group."""
    found = {}
    for summary in find_summaries(runs_dir):
        match = re.fullmatch(pattern, summary["run"].split("/")[-1])
        if summary["method"] == method and match:
            found[match.group(1)] = summary
    return found


def _glsnn_runs_by_reading(runs_dir: Path, pattern: str) -> dict[str, dict[str, dict]]:
    """GLSNN sweep runs (`pattern` with one group) split by the reading of Eq. 3 they ran and the
    conductance Eq. 3 line 1 reads; runs recorded before these options existed ran the printed
    reading with g_E(t)."""
    by_reading: dict[str, dict[str, dict]] = {}
    for summary in find_summaries(runs_dir):
        match = re.fullmatch(pattern, summary["run"].split("/")[-1])
        if summary["method"] == "glsnn" and match:
            config = summary["config"]
            series = config.get("reading", "printed") + (", g_E(t+1)" if config.get("conductance_step") == "updated" else "")
            by_reading.setdefault(series, {})[match.group(1)] = summary
    return by_reading


def _bars(names, values, paper, title, ylabel, out, name) -> list[Path]:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    x = np.arange(len(names))
    ax.bar(x - 0.2 if paper else x, values, 0.4 if paper else 0.6, label="this suite (test)", color="tab:blue")
    if paper:
        ax.bar(x + 0.2, [paper.get(n, np.nan) for n in names], 0.4, label="paper", color="tab:gray")
        ax.legend(fontsize=8)
    for i, v in enumerate(values):
        ax.text(i - (0.2 if paper else 0), v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    shown = [v for v in [*values, *(paper or {}).values()] if np.isfinite(v)]
    ax.set_ylim(max(0.0, np.floor(min(shown)) - 5), min(100.0, max(shown) + 2))   # zoomed: differences of a point matter
    return _save(fig, out, name)


def figure_balanced_iterations(runs_dir: Path, out: Path) -> list[Path]:
    """balanced-tuning.md Fig. 3 analogue (784-100-10): training and validation accuracy against
    iterations (epochs here), beside the hidden and output firing rates of the same epochs. One run
    per reading of Eq. 5's denominator: the one with the best validation accuracy."""
    best = {}
    for summary in find_summaries(runs_dir):
        if summary["method"] == "balanced" and not is_sweep(summary) and summary["validation_accuracy"] is not None:
            reading = summary["config"].get("eq5_denominator", "full")
            if reading not in best or summary["validation_accuracy"] > best[reading]["validation_accuracy"]:
                best[reading] = summary
    if not best:
        return []
    fig, (acc, rates) = plt.subplots(1, 2, figsize=(11, 3.8))
    for reading, summary in sorted(best.items()):
        rows = [json.loads(line) for line in (runs_dir / summary["run"] / "metrics.jsonl").read_text().splitlines()]
        epochs = [r["epoch"] for r in rows]
        name = f"{summary['run'].split('/')[-1]} (Eq. 5 {reading})"
        line, = acc.plot(epochs, [r["validation_accuracy"] for r in rows], marker="o", ms=3, label=f"{name}: validation")
        acc.plot(epochs, [r["train_accuracy"] for r in rows], ls=":", color=line.get_color(), label=f"{name}: training")
        rates.plot(epochs, [r["hidden_rate_hz"] for r in rows], marker="o", ms=3, color=line.get_color(), label=f"{name}: hidden")
        rates.plot(epochs, [r["output_rate_hz"] for r in rows], marker="s", ms=3, ls="--", color=line.get_color(), label=f"{name}: output")
    acc.axhline(97.90, ls="--", color="tab:gray", lw=0.8, label="paper, 784-100-10 (Table 1)")
    acc.set_xlabel("epoch")
    acc.set_ylabel("accuracy (%)")
    acc.set_title("Balanced SNN: accuracy against iterations (Fig. 3)", fontsize=10)
    rates.set_xlabel("epoch")
    rates.set_ylabel("mean firing rate (Hz)")
    rates.set_title("firing rates during training", fontsize=10)
    for ax in (acc, rates):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _save(fig, out, "balanced_iterations")


def figure_balanced_inhibitory(runs_dir: Path, out: Path) -> list[Path]:
    """balanced-tuning.md Fig. 5 analogue: test accuracy against the inhibitory proportion."""
    runs = _named_runs(runs_dir, "balanced", r"inhibitory-(\d+)-cpu-seed\d+")
    if not runs:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.axvspan(60, 80, color="tab:gray", alpha=0.15, label="paper: learns below 60%, fails above 80%")
    ax.axvline(30, ls="--", color="tab:gray", lw=0.8, label="paper's best: 30%")
    _sweep(ax, runs, None, "", "inhibitory hidden neurons (%)", "Balanced SNN on MNIST: E/I proportion (Fig. 5)")
    return _save(fig, out, "balanced_inhibitory_sweep")


def figure_balanced_ablation(runs_dir: Path, out: Path) -> list[Path]:
    """balanced-tuning.md Fig. 7 analogue: the principles integrated one by one, at equal iterations."""
    runs = _named_runs(runs_dir, "balanced", r"ablation-([a-z0-9-]+)-cpu-seed\d+")
    names = [n for n in PAPER_BALANCED_ABLATION if n in runs]
    if not names:
        return []
    return _bars(names, [runs[n]["test_accuracy"] for n in names], PAPER_BALANCED_ABLATION,
                 "Balanced SNN: MP, + feed-forward, + STP and 30% inhibitory (Fig. 7)", "test accuracy (%)",
                 out, "balanced_ablation")


def figure_backeisnn_ablation(runs_dir: Path, out: Path) -> list[Path]:
    """backeisnn.md Table X analogue on Fashion-MNIST: baseline, +SFBM, +BEIM, both, at equal epochs."""
    runs = _named_runs(runs_dir, "backeisnn", r"ablation-cpu-([a-z]+)-seed\d+")
    names = [n for n in ("baseline", "sfbm", "beim", "both") if n in runs]
    if not names:
        return []
    epochs = {runs[n]["epochs"] for n in names}
    return _bars(names, [runs[n]["test_accuracy"] for n in names], None,
                 f"BackEISNN ablation, Fashion-MNIST, {'/'.join(map(str, sorted(epochs)))} epochs (Table X analogue)",
                 "test accuracy (%)", out, "backeisnn_ablation")


def _sweep(ax, runs: dict[str, dict], paper: dict | None, paper_label: str, xlabel: str, title: str,
           series: str = "this suite") -> list[int]:
    """Test accuracy of a sweep's runs against the swept integer, the paper's numbers dashed beside;
    returns the x ticks (the swept values of both)."""
    keys = sorted(runs, key=int)
    x = [int(k) for k in keys]
    first = runs[keys[0]]
    ax.plot(x, [runs[k]["test_accuracy"] for k in keys], marker="o",
            label=f"{series} ({first['train_samples']} images x {first['epochs']} epochs, {first['test_samples']} test)")
    if paper:
        ax.plot(list(paper), list(paper.values()), ls="--", marker="s", color="tab:gray", label=paper_label)
    ticks = sorted(set(x) | set(paper or ()))
    ax.set_xticks(ticks, [str(v) for v in ticks])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ticks


def figure_bpsta_latency(runs_dir: Path, out: Path) -> list[Path]:
    """bpsta.md Table 9 analogue on MNIST: test accuracy and energy (Eq. 11) against T."""
    runs = _named_runs(runs_dir, "bpsta", r"latency-T(\d+)-cpu-seed\d+")
    if not runs:
        return []
    fig, (acc, energy) = plt.subplots(1, 2, figsize=(10, 3.6))
    t = _sweep(acc, runs, PAPER_BPSTA_LATENCY_DVS, "paper, DVS-Gesture (Table 9)", "time steps T",
               "BPSTA on MNIST: latency (Table 9)")
    steps = sorted(runs, key=int)
    energy.plot([int(k) for k in steps], [runs[k]["energy_snn_over_ann"] for k in steps], marker="o")
    energy.set(xlabel="time steps T", ylabel="energy SNN / ANN (Eq. 11)")
    energy.set_title("BPSTA: energy estimate against T", fontsize=10)
    energy.grid(alpha=0.3)
    for ax in (acc, energy):
        ax.set_xscale("log", base=2)
        ax.set_xticks(t, [str(v) for v in t])
    fig.tight_layout()
    return _save(fig, out, "bpsta_latency")


def figure_backeisnn_sweeps(runs_dir: Path, out: Path) -> list[Path]:
    """backeisnn.md Tables VI and VII analogue on Fashion-MNIST (D coding): gate kernel size and T."""
    kernel = _named_runs(runs_dir, "backeisnn", r"fashion-D-kernel(\d+)-cpu-seed\d+")
    steps = _named_runs(runs_dir, "backeisnn", r"fashion-D-T(\d+)-cpu-seed\d+")
    if not kernel and not steps:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, runs, paper, xlabel, table in ((axes[0], kernel, PAPER_BACKEISNN_KERNEL_D, "gate kernel size", "VI"),
                                           (axes[1], steps, PAPER_BACKEISNN_STEPS_D, "time steps T", "VII")):
        if runs:
            _sweep(ax, runs, paper, f"paper (Table {table}): full network, 200 epochs",
                   xlabel, f"BackEISNN, Fashion-MNIST D: {xlabel} (Table {table})")
    fig.tight_layout()
    return _save(fig, out, "backeisnn_sweeps")


def figure_glsnn_depth(runs_dir: Path, out: Path) -> list[Path]:
    """glsnn.md Fig. 6 analogue: MNIST test accuracy against the number of 256-neuron hidden layers
    (the paper plots this without printing its numbers, so none are overlaid)."""
    by_reading = _glsnn_runs_by_reading(runs_dir, r"depth-(\d+)-cpu(?:-spiking(?:-updated)?)?-seed\d+")
    if not by_reading:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.8))
    _affine_reference(ax, runs_dir, "mnist")
    for reading, runs in sorted(by_reading.items(), reverse=True):
        _sweep(ax, runs, None, "", "hidden layers of 256", "GLSNN on MNIST: depth (Fig. 6)", series=f"{reading} reading")
    return _save(fig, out, "glsnn_depth")


def _affine_reference(ax, runs_dir: Path, dataset: str) -> None:
    """The affine least-squares classifier's test accuracy: the ceiling of GLSNN read literally."""
    bench = _load_bench(runs_dir, "reference-linear")
    key = f"{dataset.replace('-', '_')}_test_accuracy"
    if key in bench:
        ax.axhline(bench[key], ls=":", color="black", lw=1,
                   label=f"affine least squares, all training images: {bench[key]:.2f}%")


def figure_glsnn_feedback(runs_dir: Path, out: Path) -> list[Path]:
    """glsnn.md Fig. 9 analogue: feedback layers added from the top of a 7-layer Fashion-MNIST network
    (0: only the last two weight layers learn)."""
    by_reading = _glsnn_runs_by_reading(runs_dir, r"ablation-7layers-fb(\d+)-cpu(?:-spiking(?:-updated)?)?-seed\d+")
    if not by_reading:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.8))
    _affine_reference(ax, runs_dir, "fashion-mnist")
    for reading, runs in sorted(by_reading.items(), reverse=True):
        _sweep(ax, runs, None, "", "hidden layers with random feedback (below the penultimate)",
               "GLSNN, Fashion-MNIST 784-200x5-10: feedback ablation (Fig. 9)", series=f"{reading} reading")
    return _save(fig, out, "glsnn_feedback_ablation")


def _load_bench(runs_dir: Path, name: str) -> dict:
    path = runs_dir / "bench" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def figure_bench(runs_dir: Path, out: Path) -> list[Path]:
    """The speed benchmarks side by side: the bio engine against one run() per sample, the fused LIF
    against snnTorch and SpikingJelly, and GLSNN's epoch on this CPU against the paper's GPU."""
    engine, lif, glsnn = (_load_bench(runs_dir, n) for n in ("bio-engine", "hybrid-lif", "bio-glsnn"))
    panels = [p for p, bench in (("engine", engine), ("lif", lif), ("glsnn", glsnn)) if bench]
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "engine":
            _labelled_bars(ax, ["one run() per sample\n(runtime)", "compiled engine\n(C++ standalone)"],
                           [engine["naive_samples_per_second"], engine["engine_samples_per_second"]], "{:.1f}")
            ax.set_ylabel("training samples / s")
            ax.set_title(f"Bio engine: {engine['ratio']:.0f}x the naive loop", fontsize=10)
            ax.set_yscale("log")
        elif panel == "lif":
            steps = sorted(int(k[1:]) for k in lif["speedup_vs_fastest_peer"])
            for framework in ("snn-suite", "snntorch", "spikingjelly"):
                ax.plot(steps, [lif["cells"][f"{framework}_T{t}"]["seconds"] for t in steps], marker="o", label=framework)
            ax.set(xscale="log", yscale="log", xlabel="time steps T", ylabel="forward + backward (s)")
            ax.set_xticks(steps, [str(t) for t in steps])
            ax.legend(fontsize=8)
            ax.set_title(f"Spiking MLP, batch 128: >= {lif['min_speedup_vs_fastest_peer']:.1f}x the fastest peer", fontsize=10)
        else:
            _labelled_bars(ax, ["paper, TITAN RTX", "Brian2 C++,\n2 CPU threads", "torch twin,\nCPU"],
                           [glsnn["paper_gpu_epoch_seconds"], glsnn["epoch_seconds"], glsnn["torch_epoch_seconds"]], "{:.0f} s")
            ax.set_ylabel("seconds per 60,000-sample epoch")
            ax.set_title("GLSNN 784-500-10 epoch, spiking reading (Table 2)", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return _save(fig, out, "benchmarks")


def _labelled_bars(ax, names, values, fmt: str) -> None:
    ax.bar(names, values, color=["tab:gray", "tab:green", "tab:blue"][:len(values)])
    for i, value in enumerate(values):
        ax.text(i, value, fmt.format(value), ha="center", va="bottom", fontsize=8)


def figure_glsnn_time(runs_dir: Path, out: Path) -> list[Path]:
    """glsnn.md Table 2 analogue: seconds per epoch against depth per reading and engine, this CPU
    against the paper's GPU."""
    bench = _load_bench(runs_dir, "bio-glsnn")
    if not isinstance(next(iter(bench.get("table2_epoch_seconds", {}).values()), None), dict):
        return []   # missing, or recorded before both readings were timed
    series = [(f"{reading}, {engine}", times) for reading, engines in bench["table2_epoch_seconds"].items()
              for engine, times in engines.items()] + [("paper (TITAN RTX GPU)", bench["table2_paper_gpu_seconds"])]
    names = list(bench["table2_paper_gpu_seconds"])
    x, width = np.arange(len(names)), 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, (label, times) in enumerate(series):
        ax.bar(x - 0.4 + (k + 0.5) * width, [np.nan if times[n] is None else times[n] for n in names], width, label=label)
    ax.set_xticks(x, names)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("seconds per 60,000-sample epoch")
    ax.set_yscale("log")
    ax.set_title("GLSNN training time per epoch (Table 2; Brian2 on 1 CPU thread)")
    ax.legend(fontsize=7)
    return _save(fig, out, "glsnn_epoch_time")


def figure_glsnn_tsne(runs_dir: Path, out: Path) -> list[Path]:
    """glsnn.md Fig. 7 analogue: t-SNE of the input, each hidden layer and the output."""
    bench = _load_bench(runs_dir, "glsnn-tsne")
    if not bench:
        return []
    labels = np.array(bench["labels"])
    order = sorted(bench["layers"], key=lambda name: (name != "input", name == "output", name))   # input, hidden, output
    fig, axes = plt.subplots(1, len(order), figsize=(3.2 * len(order), 3.4))
    for ax, name in zip(axes, order):
        layer = bench["layers"][name]
        points = np.array(layer["points"])
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
        ax.set_title(f"{name}\n5-NN accuracy {layer['knn5_accuracy']:.1f}%", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"GLSNN 784-500-500-10, spiking reading: t-SNE of {bench['samples']} MNIST test images (Fig. 7)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out, "glsnn_tsne")


def figure_ide_convergence(out: Path) -> list[Path]:
    """ide-fsnn.md Fig. 1 analogue: ||f(a[t]) - a[t]|| against t for IF and LIF.

    The network is the F400 FSNN at its seeded initialisation (seed 0) on 256 Fashion-MNIST-sized
    random images: the figure shows the dynamics the theorems describe, not a trained model.
    """
    import torch

    from hybrid.ide.model import FeedbackSNN

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for neuron, leak in (("IF", 1.0), ("LIF", 0.95)):
        torch.manual_seed(0)
        model = FeedbackSNN("F400", 2.0, leak, 1.0, 0.0).eval()
        with torch.no_grad():
            drive = model.drive(torch.rand(256, 1, 28, 28))
            gain, ones = model.feedback_gain(), torch.ones(256, 400)
            _, _, history = model.simulate(drive, ones, gain, 100, trace=True)
            gaps = [float((model.fixed_point_map(a, drive, ones, gain) - a).norm(dim=1).mean()) for a in history]
        ax.plot(range(1, 101), gaps, label=f"{neuron} (lambda = {leak})")
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("||f(a[t]) - a[t]|| (mean over samples)")
    ax.set_title("Average firing rates approach the equilibrium")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out, "ide_convergence")


def figure_ide_memory(runs_dir: Path, out: Path) -> list[Path]:
    """ide-fsnn.md Table 4 analogue: training memory against T for IDE and BPTT."""
    bench = _load_bench(runs_dir, "hybrid-ide-memory")
    if not bench:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    steps = (5, 30, 100)
    for method, label in (("ide-broyden", "IDE (Broyden)"), ("ide-fixed_point", "IDE (fixed-point)"), ("bptt", "BPTT")):
        ax.plot(steps, [bench["peak_mib"][f"{method}_T{t}"]["peak_mib"] for t in steps], marker="o", label=label)
    ax.set_xlabel("time steps T")
    ax.set_ylabel("peak training memory per batch (MiB)")
    ax.set_title(bench["network"].split(";")[0], fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out, "ide_memory")


def figure_firing_rates(runs_dir: Path, out: Path) -> list[Path]:
    """ide-fsnn.md Table 5 analogue: mean firing rate per layer in the last epoch of each IDE run."""
    runs = [s for s in find_summaries(runs_dir) if s["method"] == "ide"]
    if not runs:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for index, summary in enumerate(runs):
        last = json.loads((runs_dir / summary["run"] / "metrics.jsonl").read_text().splitlines()[-1])
        rates = [v for k, v in sorted(last.items()) if k.startswith("mean_rate")]
        ax.bar([index + 0.8 * l / len(rates) for l in range(len(rates))], rates, width=0.8 / len(rates),
               label=f"{summary['dataset']} {summary['config']['network']} {summary['config']['neuron']}")
    ax.set_xticks(range(len(runs)), [s["run"].split("/")[-1] for s in runs], fontsize=8)
    ax.set_ylabel("mean firing rate (spikes / step)")
    ax.set_title("IDE: firing rate per layer (training, last epoch)")
    ax.legend(fontsize=8)
    return _save(fig, out, "ide_firing_rates")


def figure_confusion(runs_dir: Path, out: Path) -> list[Path]:
    """Test confusion matrix of the most accurate main run per method and dataset (runs recorded
    before summaries held one are skipped)."""
    best: dict[tuple, dict] = {}
    for summary in find_summaries(runs_dir):
        key = (summary["method"], summary["dataset"])
        if "test_confusion" in summary and not is_sweep(summary) and (
                key not in best or summary["test_accuracy"] > best[key]["test_accuracy"]):
            best[key] = summary
    if not best:
        return []
    fig, axes = plt.subplots(1, len(best), figsize=(3.4 * len(best), 3.4), squeeze=False)
    for ax, (method, dataset) in zip(axes[0], sorted(best)):
        summary = best[(method, dataset)]
        counts = np.array(summary["test_confusion"], dtype=float)
        # A power norm lifts the small off-diagonal shares, where the errors are, out of the white.
        ax.imshow(counts / counts.sum(1, keepdims=True), cmap="Blues", norm=matplotlib.colors.PowerNorm(0.3, 0, 1))
        ax.set_title(f"{method}, {dataset}\n{summary['run'].split('/')[-1]}: {summary['test_accuracy']:.2f}%", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
    fig.suptitle("Test confusion (row-normalised, colour ~ share^0.3)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out, "confusion")


def make_all(runs_dir: str | Path, out: str | Path) -> list[Path]:
    runs_dir, out = Path(runs_dir), Path(out)
    from_runs = (figure_learning_curves, figure_bench, figure_ide_memory, figure_firing_rates, figure_glsnn_time,
                 figure_balanced_iterations, figure_balanced_inhibitory, figure_balanced_ablation,
                 figure_backeisnn_ablation, figure_backeisnn_sweeps, figure_bpsta_latency, figure_glsnn_depth,
                 figure_glsnn_feedback, figure_glsnn_tsne, figure_confusion)
    return [*figure_stp(out), *figure_ide_convergence(out), *(path for figure in from_runs for path in figure(runs_dir, out))]
