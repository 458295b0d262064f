#!/usr/bin/env bash
# The Python half of the README's test command (run after `cargo test`): installs the
# package with pip into a virtual environment (target/python-venv, or $LAMINA_VENV), then runs
# the Python tests and Nengo's own test suite against lamina.nengo.Simulator, which must keep
# at least 375 passing tests and a pass rate of 60% counting unsupported tests as run.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${LAMINA_VENV:-target/python-venv}"
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
export MPLBACKEND=Agg
"$venv/bin/python" -m pip install -q --upgrade pip
# The package (built by maturin in release mode) and the test dependencies; pytest<9 is what
# Nengo 4.1's test plugin needs.
"$venv/bin/python" -m pip install -q './python[test]'
echo "== Python tests"
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider
echo "== Nengo's test suite against lamina.nengo.Simulator"
"$venv/bin/python" python/tests/run_nengo_suite.py --min-passed 375 --min-pass-rate 0.6
