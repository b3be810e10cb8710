#!/usr/bin/env bash
# The hybrid-lif benchmark's own environment: the suite's peers (snnTorch, SpikingJelly) are
# installed here only, never as dependencies of the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
"$python" -m venv .bench-venv
.bench-venv/bin/python -m pip install --quiet "torch>=2.11" "numpy>=2" snntorch spikingjelly
