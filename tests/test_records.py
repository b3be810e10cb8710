import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from snnsuite.errors import SuiteError
from snnsuite.files import atomic_write_bytes, load_arrays, save_arrays
from snnsuite.records import SUMMARY_FIELDS, RunRecord, find_summaries


def test_killed_writer_leaves_previous_file_intact(tmp_path):
    target = tmp_path / "state.json"
    atomic_write_bytes(target, b"old and complete")
    # The child writes a large new version and is killed before it can rename it into place.
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        from snnsuite import files
        os.fsync = lambda fd: (print("written", flush=True), time.sleep(60))
        files.atomic_write_bytes({str(target)!r}, b"x" * 50_000_000)
    """)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "written"
    child.kill()
    child.wait()
    assert target.read_bytes() == b"old and complete"


def test_checkpoints_never_unpickle(tmp_path):
    path = tmp_path / "ck.npz"
    np.savez(path, evil=np.array([object()], dtype=object))
    with pytest.raises(SuiteError, match="cannot be read safely"):
        load_arrays(path)
    save_arrays(path, {"w": np.eye(2)})
    np.testing.assert_array_equal(load_arrays(path)["w"], np.eye(2))


def test_record_refuses_a_different_config(tmp_path):
    RunRecord(tmp_path / "run", {"lr": 1}, "cpu", 0)
    RunRecord(tmp_path / "run", {"lr": 1}, "cpu", 0)  # same config: resumable
    with pytest.raises(SuiteError, match="different config"):
        RunRecord(tmp_path / "run", {"lr": 2}, "cpu", 0)


def test_environment_is_recorded(tmp_path):
    RunRecord(tmp_path / "run", {}, "brian2-cpp", 5)
    env = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert env["seed"] == 5 and env["device"] == "brian2-cpp" and env["packages"]["numpy"]
    assert {"threads", "git_commit", "python"} <= set(env)


def test_summary_requires_every_field(tmp_path):
    record = RunRecord(tmp_path / "bio" / "glsnn" / "mnist" / "r", {}, "cpu", 0)
    with pytest.raises(ValueError, match="lacks fields"):
        record.write_summary({"method": "glsnn"})
    record.write_summary({f: 1 for f in SUMMARY_FIELDS} | {"side": "bio"})
    assert find_summaries(tmp_path)[0]["run"] == os.path.join("bio", "glsnn", "mnist", "r")
