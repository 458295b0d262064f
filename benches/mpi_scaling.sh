#!/usr/bin/env bash
# Time per step on 1 to N MPI processes, split into computing, waiting and exchanging, for one
# model (docs/scaling.md quotes it). Needs lamina built with `--features mpi` and Open MPI.
#
#   bash benches/mpi_scaling.sh [MAX_PROCESSES] [lamina run arguments...]
#   bash benches/mpi_scaling.sh 4 microcircuit --scale 0.2 --duration 0.5s --backend cpu
#
# Prints one line per process count: wall time per step, the slowest process's compute, wait
# and exchange time per step, the spikes sent per step, the smallest fraction of the other
# processes' neurons that a process has synapses from (what an all-to-all exchange would
# spare: 1 means every spike is needed everywhere), and the peak host memory of the largest
# process (each keeps only the synapses onto its own neurons).
set -euo pipefail
cd "$(dirname "$0")/.."
max=${1:-4}
shift || true
args=("$@")
if ((${#args[@]} == 0)); then
  args=(microcircuit --scale 0.2 --duration 0.5s --backend cpu)
fi
cargo build --release --features mpi -q
mpi=(mpirun --oversubscribe)
if [[ $(id -u) == 0 ]]; then
  mpi+=(--allow-run-as-root)
fi
# RAYON_NUM_THREADS=1 gives each process one thread for its CPU twin.
if [[ -n "${RAYON_NUM_THREADS:-}" ]]; then
  mpi+=(-x RAYON_NUM_THREADS)
fi
echo "cores: $(nproc); lamina run ${args[*]}"
printf '%-9s %12s %12s %12s %12s %10s %8s %12s %s\n' processes "step (us)" "compute" "wait" \
  "exchange" "spikes" "needed" "host MB" "spike hash"
for np in $(seq 1 "$max"); do
  "${mpi[@]}" -np "$np" target/release/lamina run "${args[@]}" --json -q | python3 -c "
import json, sys
np = int(sys.argv[1])
d = json.load(sys.stdin)
steps = d['steps']
ranks = d.get('per_rank') or [dict(compute_s=d['sim_s'], wait_s=0, exchange_s=0,
                                   spikes_sent=d['spikes'], host_peak_bytes=d['host_peak_bytes'])]
us = lambda s: 1e6 * s / steps
step = us(d['sim_s'])
compute = us(max(r['compute_s'] for r in ranks))
wait = us(max(r['wait_s'] for r in ranks))
exchange = us(max(r['exchange_s'] for r in ranks))
sent = sum(r['spikes_sent'] for r in ranks) / steps
needed = min(r.get('senders_fraction', 1.0) for r in ranks)
host = max(r['host_peak_bytes'] for r in ranks) / 1e6
print(f'{np:<9} {step:12.1f} {compute:12.1f} {wait:12.1f} {exchange:12.1f} {sent:10.1f} {needed:8.3f} {host:12.0f} ' + d['spike_hash'])
" "$np"
done
