#!/usr/bin/env bash
# Builds wheelhouse/: the wheels scripts/gpu-check.sh installs on a GPU machine that has Python
# 3.12, torch (with numpy, sympy, jinja2), nvcc and no network. CPython 3.12, Linux x86_64,
# checked to stay under 64 MiB so that it travels with the working tree.
# Usage: scripts/gpu-wheelhouse.sh   (needs the registry; run where ./install.sh ran)
set -euo pipefail
cd "$(dirname "$0")/.."
out=wheelhouse
limit_mib=64
python=.venv/bin/python
[ -x "$python" ] || { echo "gpu-wheelhouse: no .venv; run ./install.sh first" >&2; exit 2; }
# What the GPU machine lacks: Brian2 and brian2cuda with their own requirements, the CLI's tqdm
# and pytest. Torch's requirements (numpy, sympy, jinja2, setuptools, packaging) are already there.
packages=(brian2==2.10.1 brian2cuda==1.0b1 cython pyparsing tqdm pytest pluggy iniconfig pygments)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
"$python" -m pip download --quiet --no-deps --dest "$out.tmp" --only-binary=:all: --implementation cp \
    --python-version 3.12 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any "${packages[@]}"
size_mib=$(du -sm "$out.tmp" | cut -f1)
if [ "$size_mib" -ge "$limit_mib" ]; then
    echo "gpu-wheelhouse: $size_mib MiB of wheels, over the $limit_mib MiB limit; nothing replaced" >&2
    exit 1
fi
rm -rf "$out" && mv "$out.tmp" "$out"
echo "gpu-wheelhouse: $(ls "$out" | wc -l) wheels, $size_mib MiB in $out/"
