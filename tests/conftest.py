import os
import tempfile
from pathlib import Path

import pytest

@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets, found where `snn` looks for them (never downloaded in tests); without
    them the whole run stops with one line instead of failing test by test."""
    from snnsuite.data import missing_data_message, resolve_data_dir

    root = resolve_data_dir()
    for name in ("mnist", "fashion-mnist"):
        if not (root / name).is_dir():
            pytest.exit(f"test data missing: {missing_data_message(name)}", returncode=2)
    return root


@pytest.fixture(scope="session")
def mnist(data_dir):
    from snnsuite.data import load

    return load("mnist", data_dir)


# Brian2 builds are cached per network structure: tests share one cache, away from the user's,
# that survives between test runs (a rebuild of unchanged code is a no-op for make).
os.environ.setdefault("SNN_BUILD_CACHE", str(Path(tempfile.gettempdir()) / "snn-suite-test-builds"))
