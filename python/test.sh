#!/usr/bin/env bash
# The Python half of the README's test command (run after `cargo test`): installs the
# package with pip into a virtual environment (target/python-venv, or $LAMINA_VENV), then runs
# the Python tests, a network on 2 and 3 processes under mpirun through mpi4py, and Nengo's own
# test suite against lamina.nengo.Simulator, which must keep at least 375 passing tests and a
# pass rate of 60% counting unsupported tests as run.
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
echo "== Python under mpirun: one network on 2 and 3 processes through mpi4py"
# Needs Open MPI (mpirun, and mpicc for mpi4py where pip builds it): skipped with a message
# where it is missing, unless LAMINA_REQUIRE_MPI=1 (as in CI), where that fails.
if command -v mpirun >/dev/null && command -v mpicc >/dev/null; then
  "$venv/bin/python" -m pip install -q mpi4py
  # Open MPI refuses to run as root unless told, and more processes than cores unless told.
  mpi=(mpirun --oversubscribe)
  if [[ $(id -u) == 0 ]]; then
    mpi+=(--allow-run-as-root)
  fi
  for n in 2 3; do
    timeout 600 "${mpi[@]}" -np "$n" "$venv/bin/python" python/tests/mpi_run.py
  done
elif [[ "${LAMINA_REQUIRE_MPI:-}" == 1 ]]; then
  echo "LAMINA_REQUIRE_MPI=1 but Open MPI (mpirun, mpicc) is missing" >&2
  exit 1
else
  echo "skipped: needs Open MPI (apt-get install openmpi-bin libopenmpi-dev); set \
LAMINA_REQUIRE_MPI=1 to make this a failure"
fi
echo "== Nengo's test suite against lamina.nengo.Simulator"
"$venv/bin/python" python/tests/run_nengo_suite.py --min-passed 375 --min-pass-rate 0.6
