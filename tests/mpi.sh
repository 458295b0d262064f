#!/usr/bin/env bash
# One network over 1 to 4 MPI processes gives the spikes of one process without MPI.
#
# Builds lamina with the `mpi` feature (needs Open MPI and libclang: apt-get install
# openmpi-bin libopenmpi-dev libclang-dev) and runs, on one machine (processes oversubscribe
# its cores):
# - CUBA (every delay one step), the layers model file (normal delays, from 0.1 ms) and the
#   microcircuit at scale 0.02 on 1, 2, 3 and 4 processes on the CPU twin, and CUBA (1 to 4
#   processes) and the microcircuit (2 and 3) on the GPU adapter LAMINA_BACKEND names: the
#   spike hash of a run without MPI;
# - CUBA with an STDP projection on 1 to 3 processes on the CPU twin and 2 on the GPU adapter;
# - `--out` on 3 processes writes the files of a single run, byte for byte (the summary aside);
# - a checkpoint written on 2 processes and resumed on 2 ends with the hash of an
#   uninterrupted run, and resuming it on 3 is refused with a message;
# - a NEF model, which cannot run distributed, is refused with a message and no hang (every
#   process refuses it; mpirun stops the others once the first has, so one message or more).
# tests/distributed.rs checks the same with ranks as threads, inside `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Open MPI and libclang: installed when missing and this is root on Debian or Ubuntu, as CI
# is. Elsewhere, without them, the checks are skipped with a message, unless
# LAMINA_REQUIRE_MPI=1 (as in CI), where that fails.
have_mpi() {
  command -v mpirun >/dev/null && command -v mpicc >/dev/null &&
    { ldconfig -p | grep -q 'libclang[-.0-9]*\.so' || compgen -G '/usr/lib/llvm-*/lib/libclang*.so*' >/dev/null; }
}
if ! have_mpi && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev libclang-dev >/dev/null
fi
if ! have_mpi; then
  if [[ "${LAMINA_REQUIRE_MPI:-}" == 1 ]]; then
    echo "LAMINA_REQUIRE_MPI=1 but Open MPI (mpirun, mpicc) or libclang is missing" >&2
    exit 1
  fi
  echo "skipped: the MPI checks need Open MPI and libclang (apt-get install openmpi-bin \
libopenmpi-dev libclang-dev); set LAMINA_REQUIRE_MPI=1 to make this a failure"
  exit 0
fi

cargo build --release --features mpi
bin=target/release/lamina
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Open MPI refuses to run as root unless told, and more processes than cores unless told.
mpi=(mpirun --oversubscribe)
if [[ $(id -u) == 0 ]]; then
  mpi+=(--allow-run-as-root)
fi
failures=0

# The spike hash of a run's --json report.
hash_of() {
  grep -o '"spike_hash":"[0-9a-f]*"' | cut -d'"' -f4
}

# `same_hash NAME EXPECTED ACTUAL`: one line of the report, and a failure when they differ.
same_hash() {
  if [[ -n "$2" && "$2" == "$3" ]]; then
    echo "ok   $1: $3"
  else
    echo "FAIL $1: $3, expected $2"
    failures=$((failures + 1))
  fi
}

run_case() {
  local name=$1 backend=$2 procs=$3
  shift 3
  local alone
  # A run that fails gives no hash, which `same_hash` reports, and the checks go on.
  alone=$(timeout 600 "$bin" run "$@" --backend "$backend" --json -q | hash_of || true)
  for np in $procs; do
    same_hash "$name, $np processes, $backend" "$alone" \
      "$(timeout 600 "${mpi[@]}" -np "$np" "$bin" run "$@" --backend "$backend" --json -q |
        hash_of || true)"
  done
}

echo "== the same spikes on 1 to 4 processes"
run_case cuba cpu "1 2 3 4" cuba --duration 0.2s
run_case layers cpu "1 2 3 4" examples/models/layers.toml --duration 0.2s
run_case "microcircuit 0.02" cpu "1 2 3 4" microcircuit --scale 0.02 --duration 0.2s
run_case cuba gpu "1 2 3 4" cuba --duration 0.1s
run_case "microcircuit 0.02" gpu "2 3" microcircuit --scale 0.02 --duration 0.1s --transient 0

# CUBA with STDP on a sparse excitatory projection of delays from 0.5 ms: plastic synapses
# learn on several processes as in one.
{
  cat examples/models/cuba.toml
  cat <<'TOML'

[[projection]]
source = "excitatory"
target = "excitatory"
rule = { fixed_probability = 0.01 }
weight = { uniform = [0.5, 2.0] }
delay = { uniform = [0.5, 2.0] }
stdp = { tau_pre_ms = 20.0, tau_post_ms = 20.0, a_plus_pa = 0.05, a_minus_pa = -0.0525, w_min_pa = 0.0, w_max_pa = 3.0 }
TOML
} >"$work/cuba_stdp.toml"
run_case "cuba with STDP" cpu "1 2 3" "$work/cuba_stdp.toml" --duration 0.2s
run_case "cuba with STDP" gpu "2" "$work/cuba_stdp.toml" --duration 0.1s

echo "== --out gathers every probe into the files of one run"
"$bin" run cuba --duration 0.1s --backend cpu -q --out "$work/one" >/dev/null
"${mpi[@]}" -np 3 "$bin" run cuba --duration 0.1s --backend cpu -q --out "$work/three" >/dev/null
for f in spikes.npz raster.svg rates.svg; do
  if cmp -s "$work/one/$f" "$work/three/$f"; then
    echo "ok   --out $f on 3 processes"
  else
    echo "FAIL --out $f differs on 3 processes"
    failures=$((failures + 1))
  fi
done

echo "== a checkpoint on 2 processes resumes on 2"
whole=$("$bin" run examples/models/layers.toml --duration 0.2s --backend cpu --json -q | hash_of)
"${mpi[@]}" -np 2 "$bin" run examples/models/layers.toml --duration 0.13s --backend cpu -q \
  --checkpoint "$work/run.npz" >/dev/null
same_hash "resumed on 2 processes" "$whole" "$("${mpi[@]}" -np 2 "$bin" run \
  examples/models/layers.toml --duration 0.2s --backend cpu --json -q \
  --resume "$work/run.npz" | hash_of || true)"
if out=$(timeout 300 "${mpi[@]}" -np 3 "$bin" run examples/models/layers.toml \
  --duration 0.2s --backend cpu -q --resume "$work/run.npz" 2>&1); then
  echo "FAIL resuming on 3 processes was not refused"
  failures=$((failures + 1))
elif grep -q "written by 2 processes" <<<"$out"; then
  echo "ok   resuming on 3 processes is refused"
else
  echo "FAIL resuming on 3 processes: $out"
  failures=$((failures + 1))
fi

echo "== a NEF model is refused by every process"
if out=$(timeout 120 "${mpi[@]}" -np 3 "$bin" run channel --duration 0.1s -q 2>&1); then
  echo "FAIL the channel model ran on 3 processes"
  failures=$((failures + 1))
elif grep -q "cannot run on several processes" <<<"$out"; then
  echo "ok   the channel model is refused on 3 processes"
else
  echo "FAIL the channel model on 3 processes: $out"
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "$failures MPI checks failed"
  exit 1
fi
echo "every MPI check passed"
