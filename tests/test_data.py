import gzip
import hashlib
import shutil
import time

import numpy as np
import pytest

from snnsuite import data
from snnsuite.errors import SuiteError


def test_loads_both_datasets_with_published_class_counts(data_dir):
    counts = data.check("mnist", data_dir)
    assert list(counts.values()) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    fashion = data.load("fashion-mnist", data_dir)
    assert np.bincount(fashion.test.labels).tolist() == [1000] * 10
    assert len(fashion.train) + len(fashion.validation) == 60_000


def test_images_are_normalised_and_shaped(mnist):
    assert mnist.train.images.shape == (55_000, 28, 28)
    assert mnist.test.images.dtype == np.float32
    assert 0.0 == mnist.test.images.min() and mnist.test.images.max() == 1.0


def test_loading_all_70000_images_takes_under_two_seconds(data_dir):
    began = time.perf_counter()
    data.load("mnist", data_dir)
    assert time.perf_counter() - began < 2.0


def test_validation_split_is_fixed_disjoint_and_seed_independent(mnist, data_dir):
    train_idx, val_idx = data.validation_indices(60_000, 5_000)
    assert len(np.intersect1d(train_idx, val_idx)) == 0 and len(train_idx) + len(val_idx) == 60_000
    again = data.load("mnist", data_dir)
    np.testing.assert_array_equal(again.validation.labels, mnist.validation.labels)
    # every class is represented in the validation split
    assert np.bincount(mnist.validation.labels).min() > 400


def _copy_dataset(data_dir, tmp_path, name="mnist"):
    target = tmp_path / name
    shutil.copytree(data_dir / name, target)
    return tmp_path


def test_raw_uncompressed_files_load_too(data_dir, tmp_path):
    root = _copy_dataset(data_dir, tmp_path)
    for path in (root / "mnist").glob("*.gz"):
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    assert len(data.load("mnist", root).test) == 10_000


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[: len(raw) // 2], "data bytes, expected 10000"),
    (lambda raw: raw[:5], "truncated header"),
])
def test_truncated_files_are_rejected(data_dir, tmp_path, damage, message):
    root = _copy_dataset(data_dir, tmp_path)
    path = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(damage(gzip.decompress(path.read_bytes()))))
    with pytest.raises(SuiteError, match=message):
        data.load("mnist", root)


def test_truncated_gzip_stream_is_rejected(data_dir, tmp_path):
    root = _copy_dataset(data_dir, tmp_path)
    path = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(SuiteError, match="t10k-images-idx3-ubyte.gz"):
        data.load("mnist", root)


def test_wrong_label_is_rejected_by_checksum(data_dir, tmp_path):
    root = _copy_dataset(data_dir, tmp_path)
    path = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[8] = (raw[8] + 1) % 10
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(SuiteError, match="checksum"):
        data.load("mnist", root)


def test_parser_validates_magic_dimensions_and_label_range():
    header = (2049).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert data.parse_idx(header + bytes([1, 2, 9]), "labels", 3, "x").tolist() == [1, 2, 9]
    with pytest.raises(SuiteError, match="label 12 outside"):
        data.parse_idx(header + bytes([1, 12, 9]), "labels", 3, "x")
    with pytest.raises(SuiteError, match="magic number 2049"):
        data.parse_idx(header + bytes(3), "images", 3, "x")
    with pytest.raises(SuiteError, match="dimensions"):
        data.parse_idx(header + bytes(3), "labels", 4, "x")
    with pytest.raises(SuiteError, match="expected 3"):
        data.parse_idx(header + bytes(2), "labels", 3, "x")


def test_missing_directory_and_unknown_dataset(tmp_path):
    with pytest.raises(SuiteError, match=r"dataset 'mnist': not found in '.*nowhere'; run 'snn data fetch"):
        data.load("mnist", tmp_path / "nowhere")
    with pytest.raises(SuiteError, match="unknown"):
        data.load("cifar", tmp_path)


def test_data_dir_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    assert data.resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert data.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv(data.DATA_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "snn-suite" / "datasets"
    monkeypatch.setattr(data, "CHECKOUT_SHARED_DIR", tmp_path / "shared")
    assert data.resolve_data_dir() == cache                      # nothing anywhere: where fetch stores
    (tmp_path / "shared" / "mnist").mkdir(parents=True)
    assert data.resolve_data_dir() == tmp_path / "shared"         # the shared folder holds it
    (cache / "mnist").mkdir(parents=True)
    assert data.resolve_data_dir() == cache                       # the cache comes first
    with pytest.raises(SuiteError, match="not found in .*cache.*, .*shared"):
        data.load("fashion-mnist")


def test_embedded_checksums_match_the_shared_checksum_file(data_dir):
    listed = {}
    for line in (data_dir / "SHA256SUMS.decompressed").read_text().splitlines():
        digest, path = line.split()[:2]
        listed[path] = digest
    for name in data.DATASETS:
        for key, stem in data.FILES.items():
            assert data.SHA256[name][key] == listed[f"{name}/{stem}.gz"]
            raw = gzip.decompress((data_dir / name / f"{stem}.gz").read_bytes())
            assert hashlib.sha256(raw).hexdigest() == listed[f"{name}/{stem}.gz"]


def test_fetch_verifies_and_stores_atomically(data_dir, tmp_path, monkeypatch):
    # A local mirror stands in for the canonical host: the real download path runs, offline.
    monkeypatch.setitem(data.URLS, "mnist", (data_dir / "mnist").as_uri() + "/")
    folder = data.fetch("mnist", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{stem}.gz" for stem in data.FILES.values())
    assert len(data.load("mnist", tmp_path).test) == 10_000


def test_fetch_rejects_a_corrupt_download_and_keeps_nothing(data_dir, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    shutil.copytree(data_dir / "mnist", mirror)
    bad = mirror / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(gzip.decompress(bad.read_bytes())[:-1] + b"\x00"))
    monkeypatch.setitem(data.URLS, "mnist", mirror.as_uri() + "/")
    with pytest.raises(SuiteError, match="checksum mismatch"):
        data.fetch("mnist", tmp_path / "store")
    assert not (tmp_path / "store" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
