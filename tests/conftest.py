import os
import tempfile
from pathlib import Path

import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets beside the project (never downloaded in tests)."""
    root = Path(os.environ.get("SNN_DATA_DIR", SHARED_DATASETS))
    if not (root / "mnist").is_dir():
        pytest.fail(f"test data not found at {root}: set SNN_DATA_DIR to the folder holding mnist/ and fashion-mnist/")
    return root


@pytest.fixture(scope="session")
def mnist(data_dir):
    from snnsuite.data import load

    return load("mnist", data_dir)


# Brian2 builds are cached per network structure: tests share one cache, away from the user's,
# that survives between test runs (a rebuild of unchanged code is a no-op for make).
os.environ.setdefault("SNN_BUILD_CACHE", str(Path(tempfile.gettempdir()) / "snn-suite-test-builds"))
