"""One option chooses the Brian2 device: runtime, C++ standalone (CPU default) or CUDA standalone."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import brian2

from snnsuite.errors import SuiteError

DEVICES = ("runtime", "cpp", "cuda")
DEFAULT_DEVICE = "cpp"
CACHE_ENV = "SNN_BUILD_CACHE"
# Without a GPU, brian2cuda cannot query one; these describe the target for code generation only
# (an H100, and this machine's CUDA 13 toolkit). On a GPU machine, detection stays on.
OFFLINE_COMPUTE_CAPABILITY = 9.0
OFFLINE_CUDA_RUNTIME_VERSION = 13.0


def check_device(name: str) -> str:
    if name not in DEVICES:
        raise SuiteError(f"device '{name}': unknown; choose one of {', '.join(DEVICES)}")
    return name


def require_tool(tool: str, device: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SuiteError(f"device '{device}': needs the '{tool}' compiler, which is not on PATH")
    return path


def build_cache_root() -> Path:
    base = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snn-suite" / "brian2"
    return Path(base)


def build_directory(device: str, structure_key: str) -> Path:
    """A build directory per network structure and device, shared by all processes that build it."""
    digest = hashlib.sha256(f"{device}|{brian2.__version__}|{structure_key}".encode()).hexdigest()[:16]
    return build_cache_root() / f"{device}-{digest}"


def source_digest(path: str | os.PathLike) -> str:
    """A short hash of a model's source file, for structure keys: changed code, new build directory."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def gpu_available() -> bool:
    return shutil.which("nvidia-smi") is not None and os.path.exists("/dev/nvidia0")


def activate(device: str, threads: int | None = None, runtime_target: str = "cython") -> None:
    """Make `device` the current Brian2 device, resetting any previous one.

    Fails with a clear error, before anything is built, when the device's compiler is missing;
    nothing falls back silently to a slower device.
    """
    check_device(device)
    brian2.device.reinit()
    brian2.device.activate()
    brian2.set_device("runtime")
    brian2.prefs.reset_to_defaults()
    if device == "runtime":
        brian2.prefs.codegen.target = runtime_target
        return
    if shutil.which("c++") is None:
        require_tool("g++", device)
    if device == "cpp":
        brian2.set_device("cpp_standalone", build_on_run=False)
        brian2.prefs.devices.cpp_standalone.openmp_threads = threads or 0
        return
    require_tool("nvcc", device)
    try:
        import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
    except ImportError:
        raise SuiteError("device 'cuda': brian2cuda is not installed; run './install.sh --cuda'") from None
    brian2.set_device("cuda_standalone", build_on_run=False)
    backend = brian2.prefs.devices.cuda_standalone.cuda_backend
    if not gpu_available():
        backend.detect_gpus = False
        backend.gpu_id = 0
        backend.compute_capability = OFFLINE_COMPUTE_CAPABILITY
        backend.cuda_runtime_version = OFFLINE_CUDA_RUNTIME_VERSION
    # CUDA 13's headers need C++17 in both nvcc and the host compiler.
    backend.extra_compile_args_nvcc = [a for a in backend.extra_compile_args_nvcc if not a.startswith("-std")] + ["-std=c++17"]
    brian2.prefs.codegen.cpp.extra_compile_args_gcc = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc) + ["-std=c++17"]
    _use_pip_curand()


def _use_pip_curand() -> None:
    """brian2cuda links cuRAND; the toolkit here lacks it, so take it from the nvidia-curand wheel
    (part of the `cuda` extra). Only its curand*.h headers are exposed (the wheel's other CUDA
    headers would clash with nvcc's), and -lcurand gets a libcurand.so next to them."""
    try:
        import nvidia
    except ImportError:
        return  # a full CUDA toolkit provides cuRAND itself
    for root in map(Path, nvidia.__path__):
        for header in root.glob("*/include/curand.h"):
            lib = header.parent.parent / "lib"
            versioned = sorted(lib.glob("libcurand.so.*"))
            if not versioned:
                continue
            shim = build_cache_root() / "curand"
            (shim / "include").mkdir(parents=True, exist_ok=True)
            links = {shim / "libcurand.so": versioned[0]}
            links.update({shim / "include" / h.name: h for h in header.parent.glob("curand*.h")})
            for link, target in links.items():
                if not link.exists():
                    link.symlink_to(target)
            cpp = brian2.prefs.codegen.cpp
            cpp.include_dirs = list(cpp.include_dirs) + [str(shim / "include")]
            cpp.library_dirs = list(cpp.library_dirs) + [str(shim)]
            cpp.runtime_library_dirs = list(cpp.runtime_library_dirs) + [str(lib)]
            return
