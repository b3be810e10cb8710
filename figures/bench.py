"""Benchmarks: commands that measure, print and save figures/runs/bench/<name>.json.

Speeds are compared as ratios measured side by side in one run on one machine.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from snnsuite.errors import SuiteError
from snnsuite.files import atomic_write_json
from snnsuite.records import environment

BENCHMARKS = ("bio-engine", "bio-glsnn", "bio-balanced", "hybrid-ide-memory", "hybrid-ide-gradient", "hybrid-lif", "reference-linear", "gpu", "glsnn-tsne")
TSNE_RUN = Path("figures/runs/bio/glsnn/mnist/cpu60-spiking-seed0")   # the 784-500-500-10 spiking run
TSNE_POINTS = 2_000
PAPER_GPU_EPOCH_SECONDS = 80.86  # glsnn.md Table 2, one hidden layer of 500, TITAN RTX
PAPER_TABLE2_SECONDS = {1: 80.86, 2: 124.99, 3: 133.33, 4: 178.25, 5: 200.08, 6: 256.98}  # glsnn.md Table 2
DEPTH_SLICE = 2_000  # samples timed per depth for the Table 2 analogue, scaled to 60,000
RIDGE_GRID = (1e-3, 1e-1, 1.0, 10.0, 100.0)


def _reference_inputs(data_dir, n: int) -> np.ndarray:
    from snnsuite.data import load

    return load("mnist", data_dir).train.images[:n].reshape(n, -1).astype(float)


def bio_engine(data_dir, samples: int | None) -> dict:
    """Samples per second of the reference plastic network: naive per-sample run() vs the engine."""
    import brian2

    from bio.engine import ChunkEngine
    from bio.reference import ReferenceConfig, build_reference, initial_weights

    config = ReferenceConfig()
    naive_samples = samples or 20
    chunk, launches = 100, max(1, (samples or 500) // 100)
    images = _reference_inputs(data_dir, max(naive_samples + 1, chunk * launches))

    naive = ChunkEngine("runtime", lambda n: build_reference(config, n), 1, config.sample_duration,
                        config.structure_key(1))
    stim, syn = naive.handles["stimulus"], naive.handles["synapses"]
    naive.run({stim: images[:1]})  # warm-up: Cython compiles every code object once
    warmup = naive.timings.launch
    began = time.perf_counter()
    for k in range(1, naive_samples + 1):
        naive.run({stim: images[k:k + 1], syn.w: np.asarray(syn.w[:])})
    naive_seconds = time.perf_counter() - began

    engine = ChunkEngine("cpp", lambda n: build_reference(config, n), chunk, config.sample_duration,
                         config.structure_key(chunk))
    stim, syn = engine.handles["stimulus"], engine.handles["synapses"]
    weights = initial_weights(config)
    simulated = 0.0
    began = time.perf_counter()
    for k in range(launches):
        engine.run({stim: images[k * chunk:(k + 1) * chunk], syn.w: weights})
        weights = np.asarray(syn.w[:])
        simulated += float(brian2.device._last_run_time)
    engine_seconds = time.perf_counter() - began

    naive_rate = naive_samples / naive_seconds
    engine_rate = chunk * launches / engine_seconds
    return {
        "network": "784 Bernoulli relays -> 100 conductance LIF, STP (STD set, per-presynaptic) + pair STDP, 350 ms/sample, dt 0.5 ms",
        "naive_samples_per_second": naive_rate,
        "engine_samples_per_second": engine_rate,
        "ratio": engine_rate / naive_rate,
        "naive": {"device": "runtime (Cython)", "samples": naive_samples, "seconds": naive_seconds,
                  "first_run_compile_seconds": warmup},
        "engine": {"device": "cpp_standalone", "samples": chunk * launches, "chunk_samples": chunk,
                   "seconds": engine_seconds, "build_seconds": engine.timings.build,
                   "simulation_seconds": simulated,
                   "launch_overhead_seconds": engine.timings.launch - simulated,
                   "host_seconds": engine_seconds - engine.timings.launch,
                   "run_args_megabytes": engine.timings.run_args_bytes / 1e6},
        "where_time_goes": "build is paid once per structure (cached); each launch = process start + loading run_args + simulation; host = numpy reading weights back",
    }


def bio_glsnn(data_dir, samples: int | None) -> dict:
    """Seconds per 60,000-sample training epoch of GLSNN for both readings of Eq. 3 on both engines:
    784-500-10 on the whole training split (Brian2 on 1 and 2 threads), and the Table 2 depths."""
    from bio.glsnn import GLSNNConfig, make_learner
    from bio.glsnn.learning import calibrate_once
    from snnsuite.data import load
    from snnsuite.training import epoch_rng

    train = load("mnist", data_dir).train.head(samples)

    def seconds_per_epoch(split, **values) -> dict:
        began = time.perf_counter()
        learner = make_learner(GLSNNConfig(**values).validate())   # compiles (cached per structure)
        build = time.perf_counter() - began
        calibrate_once(learner, split)                               # once per run, not per epoch
        began = time.perf_counter()
        stats = learner.train_epoch(split, epoch_rng(0, 0), lambda it, **_: it)
        seconds = time.perf_counter() - began
        return {"samples": stats["train_samples"], "seconds": seconds, "build_seconds": build,
                "train_accuracy": stats["train_accuracy"], "seconds_per_60000": seconds * 60_000 / stats["train_samples"]}

    headline = {"brian2_1thread": dict(device="cpp"), "brian2_2threads": dict(device="cpp", threads=2),
                "torch": dict(device="torch")}
    measured = {name: seconds_per_epoch(train, hidden=(500,), reading="spiking", optimizer="adam", eta_w=1e-3, **values)
                for name, values in headline.items()}
    def depth_seconds(n, **values):
        try:
            return seconds_per_epoch(train.head(DEPTH_SLICE), hidden=(500,) * n, **values)["seconds_per_60000"]
        except SuiteError:   # the spiking reading's calibration cannot make the deepest layers fire in T
            return None

    depth = {reading: {engine: {f"500x{n}": depth_seconds(n, reading=reading, device=device) for n in PAPER_TABLE2_SECONDS}
                       for engine, device in (("brian2", "cpp"), ("torch", "torch"))}
             for reading in ("spiking", "printed")}
    return {
        "network": "GLSNN 784-500-10, T = 0.1 s, dt = 0.01 s, batch 10, Bernoulli input drawn in the network (Brian2)",
        "table2_epoch_seconds": depth,
        "table2_paper_gpu_seconds": {f"500x{n}": s for n, s in PAPER_TABLE2_SECONDS.items()},
        "table2_note": f"each depth timed on {DEPTH_SLICE} samples and scaled to 60,000 (compile and calibration excluded); "
                       "paper SGD, Brian2 on 1 thread, torch float64; null: the spiking reading's initial calibration "
                       "cannot make that many layers fire within T = 10 steps (one step of delay a layer)",
        "epoch_seconds": measured["brian2_2threads"]["seconds_per_60000"],
        "epoch_seconds_1thread": measured["brian2_1thread"]["seconds_per_60000"],
        "torch_epoch_seconds": measured["torch"]["seconds_per_60000"],
        "paper_gpu_epoch_seconds": PAPER_GPU_EPOCH_SECONDS,
        "brian2_over_paper_gpu": PAPER_GPU_EPOCH_SECONDS / measured["brian2_2threads"]["seconds_per_60000"],
        "headline": {**measured, "config": "reading=spiking, optimizer=adam (the CPU-budget presets)"},
        "note": "epoch_seconds: Brian2 C++ standalone on 2 OpenMP threads, the measured epoch over the training split "
                "scaled to 60,000 samples",
    }


def glsnn_tsne(data_dir, samples: int | None) -> dict:
    """glsnn.md Fig. 7 analogue: t-SNE (scikit-learn) of the input, each hidden layer's spike rates
    and the output of the validation-selected 784-500-500-10 network (its checkpoint in TSNE_RUN)
    on the first test images, with the 5-nearest-neighbour accuracy of each embedding."""
    import torch
    from sklearn.manifold import TSNE
    from sklearn.neighbors import KNeighborsClassifier

    from bio.glsnn import GLSNNConfig
    from hybrid.glsnn_twin import GLSNNTwin
    from snnsuite.data import load
    from snnsuite.files import load_arrays

    checkpoint = TSNE_RUN / "checkpoint.npz"
    if not checkpoint.exists():
        raise SuiteError(f"checkpoint '{checkpoint}': missing; train it with 'snn train glsnn --preset mnist-cpu60 --run-name {TSNE_RUN.name}'")
    saved = json.loads((TSNE_RUN / "config.json").read_text())
    saved.pop("method")
    config = GLSNNConfig.from_dict({**saved, "hidden": tuple(saved["hidden"]), "init_rate_range": tuple(saved["init_rate_range"]),
                                    "device": "torch"})
    arrays = load_arrays(checkpoint)
    twin = GLSNNTwin(config, {k[5:]: v for k, v in arrays.items() if k.startswith("best/")})
    test = load("mnist", data_dir).test.head(samples or TSNE_POINTS)
    images = test.images.reshape(len(test), -1)
    with torch.no_grad():
        reads, _, _ = twin.forward(torch.from_numpy(twin.encoder(images, np.random.default_rng([config.seed, 2]))))
    layers = {}
    for l, read in enumerate(reads):
        name = "input" if l == 0 else "output" if l == len(reads) - 1 else f"hidden {l}"
        points = TSNE(n_components=2, perplexity=30, init="pca", random_state=0).fit_transform(read.numpy())
        half = len(test) // 2
        knn = KNeighborsClassifier(5).fit(points[:half], test.labels[:half]).score(points[half:], test.labels[half:])
        layers[name] = {"points": np.round(points, 3).tolist(), "knn5_accuracy": 100.0 * knn}
    return {"run": str(TSNE_RUN), "samples": len(test), "labels": test.labels.tolist(), "layers": layers,
            "note": "rates of one Bernoulli presentation read by the torch twin; kNN: fit on the first half of the "
                    "embedded points, scored on the second"}


def gpu(data_dir, samples: int | None) -> dict:
    """On a machine with an NVIDIA GPU: brian2cuda against C++ standalone on all CPU cores
    (training samples per second, compile excluded), and torch CUDA against the CPU (seconds of
    float32 training steps on the same batches). scripts/gpu-check.sh runs it."""
    import torch

    from bio.devices import gpu_available
    from snnsuite.data import load

    from .gpu import brian2_epoch, torch_train_steps

    if not (gpu_available() and torch.cuda.is_available()):
        raise SuiteError("benchmark 'gpu': no NVIDIA GPU visible (nvidia-smi, /dev/nvidia0 and torch.cuda); run it on a GPU machine")
    train = load("mnist", data_dir).train
    threads = os.cpu_count() or 1
    brian2 = {}
    for name, method, values, default_samples in (
            ("glsnn_784_500_500_10", "glsnn", dict(hidden=(500, 500), optimizer="adam", eta_w=1e-3), 5_000),
            ("balanced_784_6400_10", "balanced", dict(hidden=6400), 500)):
        split = train.head(samples or default_samples)
        _, _, cpp = brian2_epoch(method, values, split, "cpp", threads)
        _, _, cuda = brian2_epoch(method, values, split, "cuda")
        brian2[name] = {"samples": len(split), "cpp_threads": threads, "cpp_samples_per_second": cpp,
                        "cuda_samples_per_second": cuda, "cuda_over_cpp": cuda / cpp}
    hybrid = {}
    for name, method, values, batch in (("stbp_784_800_10_T8", "stbp", dict(hidden=(800,), time_steps=8), 100),
                                        ("ide_f64c5_T30", "ide", dict(network="F64C5"), 128)):
        n = samples or 20 * batch
        images, labels = train.images[:n], train.labels[:n]
        _, cpu = torch_train_steps(method, values, images, labels, "cpu", batch, precision="float32")
        _, cuda = torch_train_steps(method, values, images, labels, "cuda", batch, precision="float32")
        hybrid[name] = {"samples": n, "batch": batch, "cpu_threads": torch.get_num_threads(), "cpu_seconds": cpu,
                        "cuda_seconds": cuda, "cuda_over_cpu": cpu / cuda}
    return {"gpu": torch.cuda.get_device_name(0), "brian2": brian2, "torch": hybrid,
            "note": "Brian2: one training epoch over the first samples, each device compiled once before timing; "
                    "torch: Adam steps of the model in float32 on the same batches"}


def bio_balanced(data_dir, samples: int | None) -> dict:
    """Training samples per second (presentation + Algorithm 1 update) of the Balanced SNN, 784-100-10
    and 784-6400-10, Brian2 C++ standalone on one thread; the compile is timed apart."""
    from bio.balanced import BalancedConfig, make_learner
    from snnsuite.data import load

    train = load("mnist", data_dir).train
    measured = {}
    for hidden, default_samples in ((100, 2_000), (6400, 200)):
        began = time.perf_counter()
        learner = make_learner(BalancedConfig(hidden=hidden).validate())
        build = time.perf_counter() - began
        split = train.head(samples or default_samples)
        began = time.perf_counter()
        learner.train_epoch(split, np.random.default_rng(0), lambda it, **_: it)
        seconds = time.perf_counter() - began
        measured[hidden] = {"samples": len(split), "seconds": seconds, "build_seconds": build,
                            "samples_per_second": len(split) / seconds, "engine": learner.engine.timings.as_dict()}
    return {
        "network": "Balanced SNN, 50 ms presentations at dt = 0.5 ms, batch 25 per launch, STF input synapses",
        "samples_per_second_784_100_10": measured[100]["samples_per_second"],
        "samples_per_second_784_6400_10": measured[6400]["samples_per_second"],
        "runs": {f"784-{h}-10": m for h, m in measured.items()},
        "device": "cpp_standalone, 1 thread",
    }


MEMORY_PROBE = """
import json, sys, time
import numpy as np, torch, torch.nn.functional as F
from hybrid.ide.bptt import bptt_logits
from hybrid.ide.implicit import ide_forward
from hybrid.ide.model import FeedbackSNN
from snnsuite.data import load
method, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
split = load("mnist", sys.argv[4]).train
images = ((torch.from_numpy(split.images[:batch].copy()) - 0.1307) / 0.3081).unsqueeze(1)
labels = torch.from_numpy(split.labels[:batch].copy())
del split
model = FeedbackSNN("F64C5", 2.0, 0.95, 1.0, 0.2).train()
def step():
    if method == "bptt":
        logits = bptt_logits(model, images, steps)
    else:
        logits = ide_forward(model, images, steps, solver=method.split("-", 1)[1]).logits
    F.cross_entropy(logits, labels).backward()
    model.zero_grad(set_to_none=True)
step()  # warm-up: allocator pools and lazy initialisation
def rss_kib(field):
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1])
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
before = rss_kib("VmRSS:")
began = time.perf_counter()
step()
print(json.dumps({"peak_mib": (rss_kib("VmHWM:") - before) / 1024, "seconds": time.perf_counter() - began}))
"""


def hybrid_ide_memory(data_dir, samples: int | None) -> dict:
    """Peak extra memory of one training step (forward + backward) of the MNIST F64C5 network."""
    import json
    import subprocess
    import sys

    from hybrid.ide import IDEConfig
    from snnsuite.data import resolve_data_dir

    batch = samples or 128
    rows = {}
    for method in ("ide-broyden", "ide-fixed_point", "bptt"):
        for steps in (5, 30, 100):
            # A fresh process per measurement, so that no allocator cache from another hides a peak.
            # Allocations above 64 KiB are mmapped and returned on free, so resident memory follows live tensors.
            env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
            out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, method, str(steps), str(batch),
                                  str(resolve_data_dir(data_dir))], capture_output=True, text=True, env=env)
            if out.returncode != 0:
                raise SuiteError(f"memory probe {method} T={steps}: failed ({out.stderr.strip().splitlines()[-1]})")
            rows[f"{method}_T{steps}"] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{method} T={steps}: {rows[f'{method}_T{steps}']}")
    solver = IDEConfig().solver
    default = f"ide-{solver}"
    ide = [rows[f"{default}_T{t}"]["peak_mib"] for t in (5, 30, 100)]
    return {
        "network": f"MNIST 64C5s (F64C5), LIF, batch {batch}, one SGD step (forward + backward); "
                   f"ide_over_bptt_at_T30 uses the default solver ({solver}, 30-iteration cap); Broyden also stores its updates",
        "measure": "peak resident memory above the pre-step level (Linux VmHWM after clear_refs), after a warm-up step, "
                   "one process per cell, glibc returning freed blocks above 64 KiB to the system",
        "peak_mib": rows,
        "ide_over_bptt_at_T30": rows[f"{default}_T30"]["peak_mib"] / rows["bptt_T30"]["peak_mib"],
        "ide_broyden_over_bptt_at_T30": rows["ide-broyden_T30"]["peak_mib"] / rows["bptt_T30"]["peak_mib"],
        "ide_fixed_point_over_bptt_at_T30": rows["ide-fixed_point_T30"]["peak_mib"] / rows["bptt_T30"]["peak_mib"],
        "ide_spread_over_T": (max(ide) - min(ide)) / min(ide),
        "paper_table4_gb": {"ide_T30": 2.8, "bptt_T30": 11.0, "bptt_T100": "out of memory"},
    }


def hybrid_ide_gradient(data_dir, samples: int | None) -> dict:
    """How far IDE's training gradient lies from the exact implicit gradient, against T. Training
    differentiates at the simulated average rate a[T] (ide-fsnn.md Eq. 3 with a* ~ a[T]); Eq. 3 is
    exact at the equilibrium a* = f(a*), which this solves to machine precision. F400 at its
    initialisation, dropout off, both backward solves run to 1e-10."""
    import torch
    import torch.nn.functional as F

    from hybrid.ide import IDEConfig, make_learner
    from hybrid.ide.implicit import ide_forward, implicit_readout
    from snnsuite.data import load

    batch = samples or 256
    data = load("mnist", data_dir)
    rows = {}
    for neuron in ("IF", "LIF"):
        learner = make_learner(IDEConfig(dataset="mnist", network="F400", neuron=neuron, dropout=0.0).validate())
        model = learner.model.eval()
        x = learner._inputs(data.train.images[:batch], None)
        labels = torch.from_numpy(data.train.labels[:batch].astype(np.int64))

        def gradient(out) -> torch.Tensor:
            model.zero_grad()
            F.cross_entropy(out.logits, labels).backward()
            return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

        drive, gain = model.drive(x), model.feedback_gain()
        mask = torch.ones_like(drive)
        with torch.no_grad():
            a_star = torch.zeros_like(drive)
            for _ in range(10_000):
                a_next = model.fixed_point_map(a_star, drive.detach(), mask, gain.detach())
                done = float((a_next - a_star).abs().max()) < 1e-12
                a_star = a_next
                if done:
                    break
        exact = gradient(implicit_readout(model, a_star, drive, mask, gain, solver="fixed_point", max_iter=1000, tol=1e-10))
        for steps in (5, 10, 30, 100, 200):
            out = ide_forward(model, x, steps, solver="fixed_point", max_iter=1000, tol=1e-10)
            trained = gradient(out)
            rows[f"{neuron}_T{steps}"] = {
                "gradient_relative_error": float(torch.linalg.norm(trained - exact) / torch.linalg.norm(exact)),
                "gradient_cosine": float(F.cosine_similarity(trained, exact, dim=0)),
                "rate_relative_error": float(torch.linalg.norm(out.rates[0] - a_star) / torch.linalg.norm(a_star)),
            }
            print(f"{neuron} T={steps}: {rows[f'{neuron}_T{steps}']}")
    return {
        "network": f"F400, MNIST, first {batch} training images, initial weights, dropout off",
        "measure": "IDE gradient at the simulated rate a[T] (what training uses) against the implicit gradient at the "
                   "exact equilibrium a* (fixed point of f to 1e-12); relative L2 error over all parameters",
        "by_neuron_and_T": rows,
        "lif_gradient_error_T5": rows["LIF_T5"]["gradient_relative_error"],
        "lif_gradient_error_T200": rows["LIF_T200"]["gradient_relative_error"],
    }


def hybrid_lif(data_dir, samples: int | None) -> dict:
    """Forward+backward time and peak memory of one spiking MLP in this suite, snnTorch and
    SpikingJelly (torch backend), each cell in its own process of the benchmark's environment."""
    import json
    import subprocess

    root = Path(__file__).resolve().parents[1]
    python = root / ".bench-venv" / "bin" / "python"
    if not python.exists():
        raise SuiteError(f"benchmark environment '{python.parent.parent}': missing; create it with figures/bench_env.sh")
    env = {**os.environ, "PYTHONPATH": str(root), "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    cells = {}
    for steps in (8, 32, 100):
        for framework in ("snn-suite", "snntorch", "spikingjelly"):
            out = subprocess.run([str(python), str(root / "figures" / "lif_probe.py"), framework, str(steps)],
                                 capture_output=True, text=True, env=env)
            if out.returncode != 0:
                raise SuiteError(f"hybrid-lif probe {framework} T={steps}: failed ({out.stderr.strip().splitlines()[-1]})")
            cells[f"{framework}_T{steps}"] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{framework} T={steps}: {cells[f'{framework}_T{steps}']}")
    speedups = {}
    for steps in (8, 32, 100):
        fastest_peer = min(cells[f"{p}_T{steps}"]["seconds"] for p in ("snntorch", "spikingjelly"))
        speedups[f"T{steps}"] = fastest_peer / cells[f"snn-suite_T{steps}"]["seconds"]
    versions = subprocess.run([str(python), "-c", "import importlib.metadata as m, json; print(json.dumps("
                               "{p: m.version(p) for p in ('torch', 'snntorch', 'spikingjelly')}))"],
                              capture_output=True, text=True).stdout.strip()
    return {
        "network": "spiking MLP 784-512-512-10, LIF (keep 0.2, threshold 0.5, hard reset) after every layer, "
                   "direct input, batch 128, MSE on the mean output rate; one forward+backward",
        "cells": cells,
        "speedup_vs_fastest_peer": speedups,
        "min_speedup_vs_fastest_peer": min(speedups.values()),
        "peer_versions": json.loads(versions) if versions else None,
        "note": "each framework as its users write it: snnTorch steps its Leaky neurons in a Python loop, "
                "SpikingJelly runs multi-step layers with the torch backend, this suite uses its fused LIF "
                "and projects the static input once",
    }


def least_squares_readouts(images: np.ndarray, labels: np.ndarray, ridges) -> dict[float, np.ndarray]:
    """Affine maps from pixels to one-hot labels minimising the squared error (+ ridge |W|^2), in
    closed form, one per ridge."""
    x = np.hstack([images.reshape(len(images), -1).astype(np.float64), np.ones((len(images), 1))])
    gram, moment = x.T @ x, x.T @ np.eye(int(labels.max()) + 1)[labels]
    return {ridge: np.linalg.solve(gram + ridge * np.eye(len(gram)), moment) for ridge in ridges}


def predict_affine(weights: np.ndarray, images: np.ndarray) -> np.ndarray:
    return (images.reshape(len(images), -1).astype(np.float64) @ weights[:-1] + weights[-1]).argmax(1)


def reference_linear(data_dir, samples: int | None) -> dict:
    """Test accuracy of the best affine classifier trained by squared error to one-hot targets: the
    bound for any network whose output is affine in its input, such as GLSNN read literally
    (glsnn.md Eq. 3 with rarely-firing neurons). Ridge chosen on the validation split."""
    from snnsuite.data import load

    result = {}
    for name in ("mnist", "fashion-mnist"):
        data = load(name, data_dir)
        train = data.train.head(samples)
        fits = least_squares_readouts(train.images, train.labels, RIDGE_GRID)
        validation = {ridge: 100.0 * float((predict_affine(w, data.validation.images) == data.validation.labels).mean())
                      for ridge, w in fits.items()}
        best = max(validation, key=validation.get)
        key = name.replace("-", "_")
        result[f"{key}_test_accuracy"] = 100.0 * float((predict_affine(fits[best], data.test.images) == data.test.labels).mean())
        result[key] = {"ridge": best, "validation_accuracy": validation, "train_samples": len(train)}
    result["model"] = "affine least squares, pixels in [0, 1] (as loaded) -> one-hot, closed form; ridge on validation"
    return result


def run_benchmark(name: str, out_dir: Path, data_dir, samples: int | None) -> Path:
    if name not in BENCHMARKS:
        raise SuiteError(f"benchmark '{name}': unknown; choose one of {', '.join(BENCHMARKS)}")
    if samples is not None and samples < 1:
        raise SuiteError(f"--samples {samples}: must be >= 1")
    measure = {"bio-engine": bio_engine, "bio-glsnn": bio_glsnn, "bio-balanced": bio_balanced, "hybrid-ide-memory": hybrid_ide_memory,
               "hybrid-ide-gradient": hybrid_ide_gradient,
               "hybrid-lif": hybrid_lif, "reference-linear": reference_linear, "gpu": gpu, "glsnn-tsne": glsnn_tsne}[name]
    result = {"benchmark": name, **measure(data_dir, samples),
              "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
              "environment": environment("cpu", 0)}
    path = Path(out_dir) / f"{name}.json"
    atomic_write_json(path, result)
    for key, value in result.items():
        if isinstance(value, float):
            print(f"{key}: {value:.3f}")
    print(f"saved {path}")
    return path
