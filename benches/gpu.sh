#!/usr/bin/env bash
# lamina on a GPU, one command. On a fresh Linux machine with an NVIDIA GPU it sets up what
# Vulkan needs (the loader from the distribution's packages; the driver's ICD is checked, and
# described when missing), builds lamina in release, and then, within a time budget (8 minutes
# by default), runs:
#   - the full Potjans-Diesmann microcircuit for 1 s of biological time on the GPU: build
#     time, real-time factor, device bytes per synapse, rates per population, spike hash; and
#     the CPU twin's spike hash of the same run (at the same duration with 8 cores or more,
#     else both at a shorter duration, since the twin needs about a minute per simulated
#     second on two cores);
#   - CUBA at 32,000 and 256,000 neurons;
#   - the NEF channel, 2 x 10,000 neurons, 16-D, 1 s;
# then prints one JSON object and a table beside the published real-time factors of GeNN and
# NEST GPU on an RTX 4090, and checks the H100 targets (microcircuit real-time factor <= 0.15,
# build <= 2 s, <= 6 device bytes per synapse).
#
# Usage: benches/gpu.sh [--quick] [--no-setup] [--no-build] [--allow-software] [--out DIR]
#   --quick           small sizes (microcircuit scale 0.05 for 0.3 s, CUBA 4,000 and 8,000
#                     neurons, channel 2 x 200 neurons 4-D 0.5 s), to check the script end to
#                     end on any adapter, a software one included, in a few minutes
#   --no-setup        install nothing and skip the Vulkan checks
#   --no-build        run the binary in LAMINA_BIN (default: target/release/lamina under
#                     CARGO_TARGET_DIR or the source tree) instead of building it
#   --allow-software  run on a software adapter (Mesa's lavapipe) when there is no hardware one
#   --out DIR         where the JSON object, the table and each run's output go (default:
#                     gpu-bench-DATE in the current directory)
# Environment: LAMINA_BACKEND (default vulkan) and LAMINA_ADAPTER pick the adapter;
# GPU_BENCH_BUDGET_S (default 480) is the budget of the runs; the sizes can be changed with
# GPU_BENCH_MC_SCALE, GPU_BENCH_MC_DURATION, GPU_BENCH_CPU_DURATION (the CPU twin's run when
# there are fewer than 8 cores), GPU_BENCH_CUBA_NEURONS (a list) and GPU_BENCH_CHANNEL
# ("NEURONS DIMS DURATION").
# Exit status: 0 when every run finished and the GPU and CPU spike hashes agree, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 setup=1 build=1 allow_software=0 out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --no-setup) setup=0 ;;
        --no-build) build=0 ;;
        --allow-software) allow_software=1 ;;
        --out) out=${2:?--out needs a directory}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$quick" = 1 ]; then
    mc_scale=${GPU_BENCH_MC_SCALE:-0.05} mc_duration=${GPU_BENCH_MC_DURATION:-0.3s}
    cuba_neurons=${GPU_BENCH_CUBA_NEURONS:-"4000 8000"}
    channel=${GPU_BENCH_CHANNEL:-"200 4 0.5s"}
else
    mc_scale=${GPU_BENCH_MC_SCALE:-1} mc_duration=${GPU_BENCH_MC_DURATION:-1s}
    cuba_neurons=${GPU_BENCH_CUBA_NEURONS:-"32000 256000"}
    channel=${GPU_BENCH_CHANNEL:-"10000 16 1s"}
fi
cpu_duration=${GPU_BENCH_CPU_DURATION:-0.1s}
budget_s=${GPU_BENCH_BUDGET_S:-480}
export LAMINA_BACKEND=${LAMINA_BACKEND:-vulkan}
# Mesa's GL driver complains without it; harmless elsewhere.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR=$(mktemp -d)
fi
out=${out:-gpu-bench-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
notes=()
say() { echo "gpu.sh: $*" >&2; }
note() { notes+=("$*"); say "$*"; }

# Runs a command as root: directly, or through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else say "needs root for: $*"; return 1
    fi
}

apt_updated=0
# Installs Debian/Ubuntu packages that are missing; says what to do where there is no apt-get.
install_packages() {
    if ! command -v apt-get >/dev/null; then
        note "no apt-get: install $* with this distribution's package manager"
        return 1
    fi
    if [ "$apt_updated" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# The NVIDIA driver's Vulkan ICD: a JSON file naming the driver's library, put in place by the
# driver's packages (or by the container runtime when it passes graphics capabilities).
check_nvidia_icd() {
    local dirs="/usr/share/vulkan/icd.d /etc/vulkan/icd.d" found=""
    for d in $dirs; do
        for f in "$d"/nvidia_icd*.json; do
            [ -e "$f" ] && found=$f
        done
    done
    if [ -n "$found" ]; then
        say "NVIDIA Vulkan ICD: $found"
        return 0
    fi
    if ! command -v nvidia-smi >/dev/null; then
        note "no nvidia-smi and no NVIDIA Vulkan ICD in $dirs: not an NVIDIA machine, or no driver; lamina takes whatever adapter wgpu finds"
        return 0
    fi
    local lib
    lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')
    if [ -n "$lib" ]; then
        # The driver's library is here but its ICD file is not (common in containers): name it
        # for the Vulkan loader for this run only.
        local icd="$out/nvidia_icd.json"
        printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' \
            "$lib" >"$icd"
        export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
        note "no nvidia_icd.json in $dirs; wrote $icd naming $lib and set VK_DRIVER_FILES for this run. To fix it for good, install the driver's Vulkan files (Ubuntu: the libnvidia-gl package of the driver's version), or copy that file into /etc/vulkan/icd.d/"
    else
        note "nvidia-smi works but the driver's Vulkan part is missing (no nvidia_icd.json in $dirs, no libGLX_nvidia.so.0). Install it: Ubuntu/Debian, apt-get install libnvidia-gl-<driver major version> (nvidia-smi shows the version); in a container, start it with NVIDIA_DRIVER_CAPABILITIES=all (or compute,utility,graphics)"
    fi
}

if [ "$setup" = 1 ]; then
    if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
        say "installing the Vulkan loader (libvulkan1)"
        install_packages libvulkan1 || note "could not install libvulkan1; wgpu needs it for Vulkan"
    fi
    if ! command -v vulkaninfo >/dev/null; then
        install_packages vulkan-tools || note "vulkan-tools not installed (vulkaninfo is only a diagnostic)"
    fi
    if ! command -v python3 >/dev/null; then
        install_packages python3 || true
    fi
    check_nvidia_icd
    if command -v vulkaninfo >/dev/null; then
        vulkaninfo --summary >"$out/vulkaninfo.txt" 2>&1 || note "vulkaninfo failed; see $out/vulkaninfo.txt"
    fi
fi
command -v python3 >/dev/null || { say "python3 is needed to assemble the report"; exit 1; }

target_dir=${CARGO_TARGET_DIR:-$here/target}
bin=${LAMINA_BIN:-$target_dir/release/lamina}
build_s=null
if [ "$build" = 1 ]; then
    if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null; then
        if [ "$setup" = 1 ] && command -v curl >/dev/null; then
            say "installing Rust (rustup, minimal profile)"
            curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
            export PATH="$HOME/.cargo/bin:$PATH"
        else
            say "no cargo: install Rust (https://rustup.rs), or build elsewhere and pass --no-build with LAMINA_BIN"
            exit 1
        fi
    fi
    if ! command -v cc >/dev/null && [ "$setup" = 1 ]; then
        install_packages build-essential || true
    fi
    say "building lamina (release)"
    t0=$(date +%s.%N)
    (cd "$here" && cargo build --release --bin lamina >&2)
    build_s=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
    bin=$target_dir/release/lamina
fi
[ -x "$bin" ] || { say "no lamina binary at $bin"; exit 1; }

"$bin" adapters >"$out/adapters.txt" 2>/dev/null || true
say "adapters: $(tr '\n' ';' <"$out/adapters.txt")"
# Hardware adapters of the API asked for: lines such as `0: NVIDIA H100 (Vulkan, DiscreteGpu)`.
if ! grep -i "($LAMINA_BACKEND," "$out/adapters.txt" | grep -qv ', Cpu)'; then
    if [ "$allow_software" = 1 ]; then
        note "no hardware GPU adapter; running on a software adapter, which measures correctness, not GPU speed"
    else
        say "no hardware GPU adapter for LAMINA_BACKEND=$LAMINA_BACKEND (see $out/adapters.txt and the notes above); pass --allow-software to run on a software one"
        exit 1
    fi
fi

start=$(date +%s)
runs=()
# run NAME lamina-run-arguments...: one `lamina run --json` within what is left of the budget;
# its JSON goes to NAME.json, its messages to NAME.log, its exit status to NAME.status.
run() {
    local name=$1
    shift
    local left=$((budget_s - ($(date +%s) - start)))
    runs+=("$name")
    if [ "$left" -lt 5 ]; then
        echo "skipped: the ${budget_s} s budget was spent" >"$out/$name.status"
        say "$name: skipped, budget spent"
        return
    fi
    say "$name: lamina run $* (at most ${left} s)"
    local status=0
    timeout "$left" "$bin" run "$@" --json --quiet >"$out/$name.json" 2>"$out/$name.log" || status=$?
    case "$status" in
        0) echo ok ;;
        124) echo "timed out: the ${budget_s} s budget ran out" ;;
        *) echo "failed with status $status: $(tail -n 3 "$out/$name.log" | tr '\n' ' ')" ;;
    esac >"$out/$name.status"
    say "$name: $(cat "$out/$name.status")"
}

cores=$(nproc)
run microcircuit_gpu microcircuit --scale "$mc_scale" --duration "$mc_duration" --backend gpu
if [ "$cores" -ge 8 ] || [ "$quick" = 1 ]; then
    hash_duration=$mc_duration
    run microcircuit_cpu microcircuit --scale "$mc_scale" --duration "$mc_duration" --backend cpu
else
    hash_duration=$cpu_duration
    note "$cores cores: the CPU twin's spike hash is compared on a ${cpu_duration} run of both backends"
    run microcircuit_gpu_short microcircuit --scale "$mc_scale" --duration "$cpu_duration" --transient 0 --backend gpu
    run microcircuit_cpu microcircuit --scale "$mc_scale" --duration "$cpu_duration" --transient 0 --backend cpu
fi
for n in $cuba_neurons; do
    run "cuba_$n" cuba --neurons "$n" --backend gpu
done
read -r ch_neurons ch_dims ch_duration <<<"$channel"
run channel channel --neurons "$ch_neurons" --dims "$ch_dims" --duration "$ch_duration" --backend gpu
wall_s=$(($(date +%s) - start))

driver=""
if command -v nvidia-smi >/dev/null; then
    driver=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
fi
printf '%s\n' "${notes[@]+"${notes[@]}"}" >"$out/notes.txt"

OUT="$out" RUNS="${runs[*]}" QUICK=$quick CORES=$cores WALL_S=$wall_s BUDGET_S=$budget_s \
BUILD_S=$build_s DRIVER="$driver" MC_SCALE=$mc_scale HASH_DURATION=$hash_duration \
python3 - <<'PY'
import json, os, sys

out = os.environ["OUT"]
quick = os.environ["QUICK"] == "1"
failures = []


def load(name):
    status = open(os.path.join(out, name + ".status")).read().strip()
    if status != "ok":
        failures.append(f"{name}: {status}")
        return None
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)


def pick(report, *fields):
    return {k: report.get(k) for k in fields} if report else None


runs = {name: load(name) for name in os.environ["RUNS"].split()}
mc = runs.get("microcircuit_gpu")
cpu = runs.get("microcircuit_cpu")
gpu_for_hash = runs.get("microcircuit_gpu_short", mc)
hashes_equal = None
if cpu and gpu_for_hash:
    hashes_equal = cpu["spike_hash"] == gpu_for_hash["spike_hash"]
    if not hashes_equal:
        failures.append(
            f"spike hashes differ: GPU {gpu_for_hash['spike_hash']}, CPU twin {cpu['spike_hash']}"
        )

common = ("adapter", "neurons", "synapses", "bio_s", "build_s", "sim_s", "rtf",
          "dispatches_per_step", "device_bytes", "device_bytes_per_synapse", "spike_hash")
microcircuit = pick(mc, *common, "scale", "rates_hz", "rate_ratios", "mean_rate_hz")
if microcircuit is not None:
    microcircuit["cpu_twin"] = {
        "bio_s": cpu and cpu["bio_s"],
        "spike_hash": cpu and cpu["spike_hash"],
        "gpu_spike_hash": gpu_for_hash and gpu_for_hash["spike_hash"],
        "equal": hashes_equal,
        "cpu_sim_s": cpu and cpu["sim_s"],
    }
cuba = [pick(r, *common, "mean_rate_hz") for n, r in runs.items() if n.startswith("cuba_") and r]
channel = pick(runs.get("channel"), "adapter", "neurons", "dims", "bio_s", "build_s", "sim_s",
               "rtf", "steps_per_s", "dispatches_per_step", "device_bytes", "rmse_first_1s")

full = mc is not None and float(os.environ["MC_SCALE"]) == 1.0 and not quick


def target(value, limit):
    if value is None or not full:
        return {"value": value, "limit": limit, "met": None}
    return {"value": value, "limit": limit, "met": value <= limit}


report = {
    "bench": "gpu",
    "quick": quick,
    "adapter": (mc or {}).get("adapter") or next((r["adapter"] for r in runs.values() if r), None),
    "nvidia_smi": os.environ["DRIVER"] or None,
    "host_cores": int(os.environ["CORES"]),
    "cargo_build_s": json.loads(os.environ["BUILD_S"]),
    "runs_wall_s": int(os.environ["WALL_S"]),
    "budget_s": int(os.environ["BUDGET_S"]),
    "microcircuit": microcircuit,
    "cuba": cuba,
    "channel": channel,
    "published_microcircuit_rtf": {"GeNN (RTX 4090)": 0.27, "NEST GPU (RTX 4090)": 0.39},
    "h100_targets": {
        "microcircuit_rtf": target(mc and mc["rtf"], 0.15),
        "microcircuit_build_s": target(mc and mc["build_s"], 2.0),
        "device_bytes_per_synapse": target(mc and mc["device_bytes_per_synapse"], 6.0),
    },
    "notes": [l for l in open(os.path.join(out, "notes.txt")).read().splitlines() if l],
    "failures": failures,
}
text = json.dumps(report)
open(os.path.join(out, "gpu_bench.json"), "w").write(text + "\n")


def num(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


lines = [f"adapter: {report['adapter']}" + (f"; {report['nvidia_smi']}" if report["nvidia_smi"] else ""),
         f"{'run':<34} {'build_s':>8} {'sim_s':>8} {'rtf':>8} {'disp/step':>9} {'B/synapse':>9} {'spike hash':>17}"]
rows = []
if mc:
    rows.append((f"microcircuit scale {mc['scale']}, {mc['bio_s']} s", mc))
for r in cuba:
    rows.append((f"cuba {r['neurons']} neurons, {r['bio_s']} s", r))
if channel:
    rows.append((f"channel 2x{channel['neurons'] // 2} {channel['dims']}-D, {channel['bio_s']} s", channel))
for label, r in rows:
    lines.append(f"{label:<34} {num(r.get('build_s')):>8} {num(r.get('sim_s')):>8} {num(r.get('rtf')):>8} "
                 f"{num(r.get('dispatches_per_step')):>9} {num(r.get('device_bytes_per_synapse')):>9} "
                 f"{r.get('spike_hash') or '':>17}")
if microcircuit:
    t = microcircuit["cpu_twin"]
    lines.append(f"CPU twin, microcircuit {t['bio_s']} s: spike hash {t['spike_hash']}, GPU "
                 f"{t['gpu_spike_hash']}: {'equal' if t['equal'] else 'NOT EQUAL' if t['equal'] is False else '-'}")
    rates = mc["rates_hz"]
    lines.append("rates (Hz): " + ", ".join(f"{k} {v:.2f}" for k, v in rates.items()))
lines.append("")
lines.append("microcircuit real-time factor (full scale; lower is faster)")
lines.append(f"{'engine':<10} {'GPU':<50} {'rtf':>8}")
where = f" (scale {mc['scale']}, {mc['bio_s']} s)" if mc and not full else ""
lines.append(f"{'lamina':<10} {(report['adapter'] or '-')[:50]:<50} {num(mc and mc['rtf']):>8}{where}")
lines.append(f"{'GeNN':<10} {'RTX 4090 (published)':<50} {0.27:>8}")
lines.append(f"{'NEST GPU':<10} {'RTX 4090 (published)':<50} {0.39:>8}")
if full:
    for name, t in report["h100_targets"].items():
        lines.append(f"target {name} <= {t['limit']}: {num(t['value'])} {'met' if t['met'] else 'NOT MET'}")
else:
    lines.append("targets (H100): not judged, the microcircuit did not run at full scale")
for f in failures:
    lines.append(f"FAILED: {f}")
table = "\n".join(lines)
open(os.path.join(out, "gpu_bench.txt"), "w").write(table + "\n")
print(text)
print(table)
sys.exit(1 if failures else 0)
PY
