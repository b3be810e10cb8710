#!/usr/bin/env bash
# Creates .venv with Python 3.12 and installs the suite with its dev extras.
# Usage: ./install.sh [--cuda]   (--cuda adds the optional GPL-3.0 brian2cuda extra)
set -euo pipefail
cd "$(dirname "$0")"

find_python312() {
    local candidate
    for candidate in "${PYTHON:-}" python3.12 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.12*/bin/python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! python=$(find_python312); then
    echo "install.sh: no Python 3.12 interpreter found (tried \$PYTHON, python3.12 on PATH and pyenv versions); install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12" >&2
    exit 1
fi
extras="dev"
[ "${1:-}" = "--cuda" ] && extras="dev,cuda"

echo "Using $python ($("$python" --version))"
[ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null || "$python" -m venv --clear .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$extras]"
echo "Installed. Run the tests with: .venv/bin/python -m pytest"
