"""The compile-once engine: chunk boundaries are invisible, devices agree, builds are reused."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms, nS

from bio.engine import ChunkEngine, build_lock
from bio.reference import ReferenceConfig, build_reference, initial_weights

CONFIG = ReferenceConfig(n_input=40, n_hidden=8, sample_duration=40 * ms, g_max=5 * nS, input_mode="spikes")
SAMPLES = 6


SILENT_INPUTS = 5  # the first relays never spike: pair STDP must leave their synapses alone


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    intensities = rng.random((SAMPLES, CONFIG.n_input)) * 0.6
    intensities[:, :SILENT_INPUTS] = 0
    return (rng.random((SAMPLES, CONFIG.steps, CONFIG.n_input)) < intensities[:, None, :] * 0.2).astype(float)


def _train(device, chunk, target="numpy"):
    """Present SAMPLES samples in chunks of `chunk`, carrying the weights between launches."""
    engine = ChunkEngine(device, lambda n: build_reference(CONFIG, n), chunk, CONFIG.sample_duration,
                         CONFIG.structure_key(chunk), runtime_target=target)
    spikes = _inputs()
    syn = engine.handles["synapses"]
    weights, counts = None, []
    for start in range(0, SAMPLES, chunk):
        values = {engine.handles["stimulus"]: spikes[start:start + chunk].reshape(-1, CONFIG.n_input)}
        if weights is not None:
            values[syn.w] = weights
        engine.run(values)
        weights = np.asarray(syn.w[:]).copy()
        counts.append(np.asarray(engine.handles["spikes"].count[:]).copy())
    total = counts[-1] if device == "runtime" else sum(counts)  # runtime monitors accumulate
    return engine, weights, total


@pytest.fixture(scope="module")
def cpp_whole():
    return _train("cpp", SAMPLES)


def test_pair_stdp_changes_exactly_the_synapses_whose_pre_and_post_both_fired(cpp_whole):
    # Pair STDP moves w by the partner's trace at each spike; a synapse whose relay or whose
    # neuron never spiked sees only zero traces, so its weight must not move at all.
    _, weights, counts = cpp_whole
    pre_fired = _inputs().sum(axis=(0, 1)) > 0
    post_fired = counts > 0
    both = np.outer(pre_fired, post_fired)
    change = (weights - initial_weights(CONFIG)).reshape(CONFIG.n_input, CONFIG.n_hidden)
    assert both.any() and not both.all()
    np.testing.assert_array_equal(change[~both], 0)
    assert np.count_nonzero(change[both]) > 0.9 * both.sum()


def test_chunk_boundaries_are_invisible(cpp_whole):
    _, whole_w, whole_counts = cpp_whole
    _, chunked_w, chunked_counts = _train("cpp", 2)
    np.testing.assert_allclose(chunked_w, whole_w, rtol=1e-12)
    np.testing.assert_array_equal(chunked_counts, whole_counts)


def test_runtime_and_cpp_standalone_agree(cpp_whole):
    _, cpp_w, cpp_counts = cpp_whole
    _, rt_w, rt_counts = _train("runtime", 2)
    np.testing.assert_array_equal(rt_counts, cpp_counts)
    np.testing.assert_allclose(rt_w, cpp_w, rtol=1e-9)


def test_a_second_process_reuses_the_compiled_binary(cpp_whole):
    engine, _, _ = cpp_whole
    objects = sorted((engine.directory / "code_objects").glob("*.o"))
    built = [o.stat().st_mtime_ns for o in objects]
    script = ("from tests.test_engine import _train, SAMPLES; e, _, _ = _train('cpp', SAMPLES); "
              "print(e.directory, e.timings.runs)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    directory, runs = out.stdout.split()
    assert Path(directory) == engine.directory and runs == "1"
    # No code object was recompiled. (main.cpp may be: Brian2 initialises clocks in set order,
    # which Python's per-process string hashing shuffles; relinking it takes a second.)
    assert [o.stat().st_mtime_ns for o in objects] == built


def test_a_build_waits_for_launches_of_the_same_binary(cpp_whole):
    """Another process building the same structure relinks `main`: it must wait until no launch
    holds the build (here the test holds the launch side of the lock for a while)."""
    engine, _, _ = cpp_whole
    script = ("import time; from tests.test_engine import _train, SAMPLES; _train('cpp', SAMPLES); "
              "print(time.time())")
    with build_lock(engine.directory, exclusive=False):
        builder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                   cwd=Path(__file__).resolve().parents[1])
        time.sleep(15)   # a cached build takes a few seconds; without the lock it would be done
        released = time.time()
    finished = float(builder.communicate(timeout=120)[0].split()[-1])
    assert builder.returncode == 0 and finished > released


@pytest.mark.cuda_compile
def test_cuda_code_generation_and_compile_without_gpu(tmp_path):
    pytest.importorskip("brian2cuda")
    import brian2

    from bio.devices import activate

    activate("cuda")
    brian2.set_device("cuda_standalone", build_on_run=False, directory=str(tmp_path / "cuda"))
    network = build_reference(CONFIG, 2)["network"]
    network.run(2 * CONFIG.sample_duration)
    brian2.device.build(directory=str(tmp_path / "cuda"), compile=True, run=False, with_output=False)
    assert (tmp_path / "cuda" / "main").exists()


def test_launches_leave_no_run_args_files_behind():
    """Brian2 stores each launch's run_args under static_arrays; new weights every launch would
    otherwise fill the disk. Fresh random values make files that cannot already exist."""
    engine, _, _ = _train("cpp", SAMPLES)   # a fresh engine: the active Brian2 device is global
    static = engine.directory / "static_arrays"
    before = sorted(p.name for p in static.glob("init_*"))
    rng = np.random.default_rng()
    engine.run({engine.handles["stimulus"]: (rng.random((SAMPLES * CONFIG.steps, CONFIG.n_input)) < 0.05).astype(float),
                engine.handles["synapses"].w: rng.random(CONFIG.n_input * CONFIG.n_hidden)})
    assert sorted(p.name for p in static.glob("init_*")) == before
