#!/usr/bin/env bash
# The prepared GPU check, for a machine with one NVIDIA GPU, Python 3.12, torch (CUDA build) and
# nvcc, but no network and no Brian2: installs Brian2 and brian2cuda from wheelhouse/ (built
# beforehand by scripts/gpu-wheelhouse.sh) into .gpu-venv, runs the `gpu` tests, then
# `snn bench gpu` (brian2cuda against C++ standalone, torch CUDA against the CPU), which writes
# figures/runs/bench/gpu.json. Made to finish in under 8 minutes, brian2cuda's compiles included.
#
# Usage: scripts/gpu-check.sh [--rehearse]
#   --rehearse  on a machine without a GPU: everything but the GPU work (install from the
#               wheelhouse into a site that has what the GPU machine has, imports, brian2cuda code
#               generation without compiling, the gpu tests skipping with their reasons)
# Exit codes: 0 done, 1 a step failed, 2 no GPU or no wheelhouse.
set -euo pipefail
cd "$(dirname "$0")/.."
rehearse=false
[ "${1:-}" = "--rehearse" ] && rehearse=true
began=$(date +%s)
step() { echo "gpu-check [$(( $(date +%s) - began )) s]: $*"; }

if ! $rehearse && ! { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }; then
    echo "gpu-check: no NVIDIA GPU (nvidia-smi lists none); run on a GPU machine, or --rehearse" >&2
    exit 2
fi
if ! ls wheelhouse/brian2-2.10.1-*.whl wheelhouse/brian2cuda-*.whl >/dev/null 2>&1; then
    echo "gpu-check: no wheelhouse/ with brian2 and brian2cuda; build it with scripts/gpu-wheelhouse.sh where the registry is reachable" >&2
    exit 2
fi

python=${PYTHON:-python3.12}
export PYTHONPATH=$PWD
if $rehearse; then
    # Stand in for the GPU machine's Python: this project's .venv without what the wheelhouse brings.
    python=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
    site=$(mktemp -d)
    for entry in .venv/lib/python3.12/site-packages/*; do
        case "$(basename "$entry" | tr 'A-Z' 'a-z')" in
            brian2*|cython*|pyximport|pyparsing*|tqdm*|pytest*|_pytest|py.py|pluggy*|iniconfig*|pygments*|snn_suite*|__editable__*) ;;
            *) ln -s "$PWD/$entry" "$site/" ;;
        esac
    done
fi
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 12), sys.version' || { echo "gpu-check: $python is not Python 3.12 (set PYTHON)" >&2; exit 2; }

step "installing Brian2 and brian2cuda from wheelhouse/ into .gpu-venv"
"$python" -m venv --clear --system-site-packages .gpu-venv
if $rehearse; then   # a site directory, so that its .pth files (setuptools' distutils) take effect
    echo "import site; site.addsitedir('$site')" > .gpu-venv/lib/python3.12/site-packages/gpu-rehearsal-site.pth
fi
.gpu-venv/bin/python -c 'import torch' || { echo "gpu-check: torch does not import with $python" >&2; exit 2; }
.gpu-venv/bin/python -m pip install --quiet --no-index --no-deps --find-links wheelhouse \
    brian2==2.10.1 brian2cuda==1.0b1 cython pyparsing tqdm pytest pluggy iniconfig pygments
.gpu-venv/bin/python -c 'import brian2, brian2cuda, torch; print("brian2", brian2.__version__, "| brian2cuda", brian2cuda.__version__, "| torch", torch.__version__, "| cuda", torch.cuda.is_available())'

if $rehearse; then
    step "brian2cuda code generation of a small GLSNN (no compile)"
    .gpu-venv/bin/python - <<'PY'
import tempfile
import brian2
from bio.devices import activate
from bio.glsnn import GLSNNConfig
from bio.glsnn.network import build
activate("cuda")
handles = build(GLSNNConfig.from_dict(dict(hidden=(24, 16), chunk_samples=20, device="cuda")), 20)
handles["network"].run(20 * 0.1 * brian2.second)
brian2.device.build(directory=tempfile.mkdtemp(), compile=False, run=False)
print("generated CUDA code for GLSNN")
PY
    step "the gpu tests (they skip here, each with its reason)"
    .gpu-venv/bin/python -m pytest -q -rs -m gpu tests/test_gpu.py -p no:cacheprovider
    step "rehearsal done; on a GPU machine the next step is: snn bench gpu"
    exit 0
fi

step "the gpu tests"
.gpu-venv/bin/python -m pytest -q -rs -m gpu tests/test_gpu.py -p no:cacheprovider
step "benchmark: brian2cuda against C++ standalone, torch CUDA against the CPU"
.gpu-venv/bin/python -m snnsuite.cli bench gpu --out-dir figures/runs/bench
step "done: figures/runs/bench/gpu.json"
