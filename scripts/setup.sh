#!/usr/bin/env bash
# Create or reuse the project's virtual environment (.venv, or $XINIT_VENV) and
# install xinit into it, non-editable, with the torch, flax and dev extras.
# Sourced by scripts/xinit and scripts/test; safe to run again at any time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${XINIT_VENV:-$root/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
# Dependencies are (re)installed when pyproject.toml or constraints.txt change.
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$venv/.xinit-deps" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing dependencies (torch pinned to the local CPU wheel by constraints.txt)" >&2
  "${pip[@]}" install -c "$root/constraints.txt" "$root[torch,flax,dev]"
  echo "$want" > "$venv/.xinit-deps"
fi
# The project itself is reinstalled every time, so runs use the current source.
"${pip[@]}" install --no-deps --no-build-isolation --force-reinstall "$root"
