"""MNIST and Fashion-MNIST from IDX files, validated, with a fixed validation split.

Imports neither Brian2 nor torch: both sides of the suite load data through here.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SuiteError
from .files import atomic_write_bytes

DATASETS = ("mnist", "fashion-mnist")
DATA_DIR_ENV = "SNN_DATA_DIR"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
COUNTS = {"train": 60_000, "test": 10_000}
# SHA-256 of the decompressed IDX bytes: compressed files differ between mirrors, the data does not.
SHA256 = {
    "mnist": {
        "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
# Canonical public locations, used only by `snn data fetch`.
URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
VALIDATION_SEED = 20240101  # fixed: the validation split must not move with the training seed
DEFAULT_VALIDATION_SIZE = 5_000


@dataclass(frozen=True)
class Split:
    """Images as float32 in [0, 1] with shape (n, 28, 28) and labels as int64 in [0, 10)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> "Split":
        return self if n is None else Split(self.images[:n], self.labels[:n])


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    validation: Split
    test: Split


def check_name(name: str) -> str:
    if name not in DATASETS:
        raise SuiteError(f"dataset '{name}': unknown; choose one of {', '.join(DATASETS)}")
    return name


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "snn-suite" / "datasets"


# Where this project's machines keep the datasets: `shared/datasets` beside the checkout.
CHECKOUT_SHARED_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def data_dir_candidates(flag: str | os.PathLike | None = None) -> list[Path]:
    """Where datasets are looked for, in order: the CLI flag, else $SNN_DATA_DIR (either one alone
    when given), else the per-user cache, then `shared/datasets` beside the checkout."""
    given = flag or os.environ.get(DATA_DIR_ENV)
    if given:
        return [Path(given).expanduser()]
    return [default_cache_dir(), CHECKOUT_SHARED_DIR]


def resolve_data_dir(flag: str | os.PathLike | None = None, name: str = "mnist") -> Path:
    """The first candidate directory that holds dataset `name`, else the first candidate (where
    `snn data fetch` stores it)."""
    candidates = data_dir_candidates(flag)
    return next((c for c in candidates if (c / name).is_dir()), candidates[0])


def missing_data_message(name: str, flag: str | os.PathLike | None = None) -> str:
    searched = ", ".join(f"'{c}'" for c in data_dir_candidates(flag))
    return (f"dataset '{name}': not found in {searched}; run 'snn data fetch --data-dir DIR' where there is network, "
            f"or point --data-dir or ${DATA_DIR_ENV} at a folder holding {name}/")


def _find_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise SuiteError(f"data file '{folder / stem}[.gz]': missing (run 'snn data fetch' or pass --data-dir)")


def _read_idx(path: Path) -> bytes:
    try:
        return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise SuiteError(f"data file '{path}': unreadable or truncated gzip ({err})") from None


def _verify_checksum(raw: bytes, name: str, key: str, source: str) -> None:
    if hashlib.sha256(raw).hexdigest() != SHA256[name][key]:
        raise SuiteError(f"data file '{source}': checksum of the decompressed bytes does not match the published {name} {key}")


def parse_idx(raw: bytes, kind: str, expected_count: int, source: str) -> np.ndarray:
    """Parse IDX bytes and validate magic number, dimensions, count and (for labels) range."""
    magic = IMAGE_MAGIC if kind == "images" else LABEL_MAGIC
    ndim = 3 if kind == "images" else 1
    header = 4 + 4 * ndim
    if len(raw) < 4:
        raise SuiteError(f"data file '{source}': truncated header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise SuiteError(f"data file '{source}': magic number {found}, expected {magic} for {kind}")
    if len(raw) < header:
        raise SuiteError(f"data file '{source}': truncated header ({len(raw)} bytes)")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if dims[0] != expected_count or (kind == "images" and dims[1:] != [28, 28]):
        raise SuiteError(f"data file '{source}': dimensions {dims}, expected [{expected_count}{', 28, 28' if kind == 'images' else ''}]")
    body = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(dims)):
        raise SuiteError(f"data file '{source}': {body.size} data bytes, expected {int(np.prod(dims))} (truncated?)")
    body = body.reshape(dims)
    if kind == "labels" and body.max(initial=0) > 9:
        raise SuiteError(f"data file '{source}': label {int(body.max())} outside 0..9")
    return body


def _load_split(folder: Path, name: str, split: str) -> Split:
    arrays = {}
    for kind in ("images", "labels"):
        key = f"{split}_{kind}"
        path = _find_file(folder, FILES[key])
        raw = _read_idx(path)
        arrays[kind] = parse_idx(raw, kind, COUNTS[split], str(path))  # structure first: the clearer message
        _verify_checksum(raw, name, key, str(path))
    images = arrays["images"].astype(np.float32)
    images *= np.float32(1 / 255)
    return Split(images, arrays["labels"].astype(np.int64))


def validation_indices(n_train: int, n_validation: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed, seeded (train, validation) index split of the 60,000 training images; a size of 0
    leaves every image for training."""
    if not 0 <= n_validation < n_train:
        raise SuiteError(f"validation size {n_validation}: must be between 0 and {n_train - 1}")
    order = np.random.default_rng(VALIDATION_SEED).permutation(n_train)
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def load(name: str, data_dir: str | os.PathLike | None = None, validation_size: int = DEFAULT_VALIDATION_SIZE) -> Dataset:
    """Load and verify a dataset; the validation split is carved from the training set."""
    check_name(name)
    folder = resolve_data_dir(data_dir, name) / name
    if not folder.is_dir():
        raise SuiteError(missing_data_message(name, data_dir))
    full_train = _load_split(folder, name, "train")
    train_idx, val_idx = validation_indices(len(full_train), validation_size)
    return Dataset(
        name=name,
        train=Split(full_train.images[train_idx], full_train.labels[train_idx]),
        validation=Split(full_train.images[val_idx], full_train.labels[val_idx]),
        test=_load_split(folder, name, "test"),
    )


def check(name: str, data_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """Verify every file of a dataset; returns the class counts of the training labels."""
    dataset = load(name, data_dir)
    labels = np.concatenate([dataset.train.labels, dataset.validation.labels])
    return {str(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True))}


def fetch(name: str, data_dir: str | os.PathLike | None = None, progress=None) -> Path:
    """Download a dataset from its canonical location, verify it and store it atomically."""
    check_name(name)
    folder = resolve_data_dir(data_dir, name) / name
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in FILES.items():
        target = folder / f"{stem}.gz"
        if target.exists():
            try:
                _verify_checksum(_read_idx(target), name, key, str(target))
                continue
            except SuiteError:
                pass  # corrupt file: download again
        url = URLS[name] + f"{stem}.gz"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0)
                chunks = []
                bar = progress(total=total, desc=stem, unit="B", unit_scale=True) if progress else None
                while chunk := response.read(1 << 16):
                    chunks.append(chunk)
                    if bar:
                        bar.update(len(chunk))
                if bar:
                    bar.close()
        except OSError as err:
            raise SuiteError(f"download '{url}': failed ({err}); {missing_data_message(name, data_dir)}") from None
        payload = b"".join(chunks)
        raw = gzip.decompress(payload)
        if hashlib.sha256(raw).hexdigest() != SHA256[name][key]:
            raise SuiteError(f"download '{url}': checksum mismatch; nothing was stored")
        atomic_write_bytes(target, payload)
    return folder


def ensure(name: str, data_dir: str | os.PathLike | None = None, progress=None) -> Path:
    """The folder holding dataset `name`, fetched (verified, atomically) when no candidate has it."""
    folder = resolve_data_dir(data_dir, name) / name
    return folder if folder.is_dir() else fetch(name, data_dir, progress)
