"""Every expected error ends with a non-zero exit and one line naming the input; no traceback."""
import gzip
import shutil
import subprocess
import sys

import pytest

from snnsuite.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize("argv, needle", [
    (["train", "nosuch", "--show-config"], "method 'nosuch'"),
    (["train", "stbp", "--dataset", "cifar10", "--show-config"], "dataset 'cifar10'"),
    (["train", "stbp", "--epochs", "0", "--show-config"], "epochs=0"),
    (["train", "stbp", "--set", "learning_rate=-1", "--show-config"], "learning_rate=-1.0"),
    (["train", "stbp", "--set", "threshold=0", "--show-config"], "threshold=0.0: must be > 0"),
    (["train", "glsnn", "--set", "eta_w=nan", "--show-config"], "eta_w=nan"),
    (["train", "stbp", "--set", "no_such_key=1", "--show-config"], "config key 'no_such_key'"),
    (["train", "glsnn", "--preset", "nope", "--show-config"], "preset 'nope'"),
    (["data", "check", "--dataset", "emnist"], "dataset 'emnist'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, err = _run(capsys, *argv)
    assert code == 2
    assert len(err) == 1 and needle in err[0], err


def test_missing_data_directory(capsys, tmp_path):
    code, err = _run(capsys, "train", "stbp", "--data-dir", str(tmp_path / "missing"), "--runs-dir", str(tmp_path))
    assert code == 2 and len(err) == 1 and "not found in" in err[0] and "snn data fetch" in err[0]


def test_corrupt_file_is_named(capsys, tmp_path, data_dir):
    shutil.copytree(data_dir / "mnist", tmp_path / "mnist")
    bad = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(gzip.decompress(bad.read_bytes())[:-10]))
    code, err = _run(capsys, "data", "check", "--dataset", "mnist", "--data-dir", str(tmp_path))
    assert code == 2 and len(err) == 1 and "train-labels-idx1-ubyte.gz" in err[0]


def test_data_check_passes_on_the_shared_datasets(capsys, data_dir):
    assert main(["data", "check", "--data-dir", str(data_dir)]) == 0
    assert "fashion-mnist: ok" in capsys.readouterr().out


def test_show_config_explains_each_value(capsys):
    assert main(["train", "glsnn", "--preset", "mnist-paper", "--show-config"]) == 0
    out = capsys.readouterr().out
    assert "hidden = (800, 800, 800)" in out and "eta_t = 0.5  # glsnn.md" in out


def test_train_writes_a_run_record(capsys, tmp_path, data_dir):
    code = main(["train", "stbp", "--data-dir", str(data_dir), "--runs-dir", str(tmp_path), "--epochs", "1",
                 "--train-samples", "200", "--validation-samples", "100", "--test-samples", "100",
                 "--set", "hidden=16", "--set", "time_steps=2"])
    assert code == 0
    run = tmp_path / "hybrid" / "stbp" / "mnist" / "custom-seed0"
    assert {"summary.json", "metrics.jsonl", "config.json", "environment.json", "checkpoint.npz"} <= {p.name for p in run.iterdir()}


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "snnsuite.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "train" in out.stdout and "compare" in out.stdout


def test_shared_code_imports_without_brian2_or_torch():
    code = ("import sys, snnsuite.data, snnsuite.encoders, snnsuite.records, snnsuite.training, snnsuite.cli, snnsuite.compare;"
            "snnsuite.cli.build_parser();"
            "assert 'brian2' not in sys.modules and 'torch' not in sys.modules, [m for m in sys.modules if m in ('brian2','torch')]")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
