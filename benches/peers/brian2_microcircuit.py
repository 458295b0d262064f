#!/usr/bin/env python3
"""Brian2 peer for the Potjans & Diesmann (2014) cortical microcircuit.

Purpose
-------
Optional side-by-side reference for lamina's ``pd14`` model: it builds the
Potjans-Diesmann cortical microcircuit (8 populations, NEST ``iaf_psc_exp``
neurons, fixed-total-number connectivity, Poisson background drive) in Brian2
from the same parameter file lamina uses, runs it, and prints one JSON line with
the population firing rates, the network size, timings and peak memory.

This script is NOT needed by lamina's build or test suite; nothing in the
repository imports or calls it.

Install
-------
    pip install brian2 'numpy<2.3'
A C++ compiler (g++) is needed for the default ``cpp_standalone`` device (and
for Brian2's Cython code generation in ``runtime`` mode). Python >= 3.11 (for
``tomllib``).

Usage
-----
    python3 benches/peers/brian2_microcircuit.py --scale 0.1 --duration 1.1 --seed 1 --json
    python3 benches/peers/brian2_microcircuit.py --scale 1.0 --threads 0 --json
    python3 benches/peers/brian2_microcircuit.py --params path/to/pd14.toml --scale 0.1

``--params`` defaults to ``src/builtin/pd14.toml`` of the repository (found
relative to this script: ``<script dir>/../../src/builtin/pd14.toml``).

Memory: peak memory grows by roughly 60-70 bytes per synapse, both in Python
while the network is built (every per-synapse array is kept until the C++
project is written) and in the compiled binary (it keeps the static arrays it
loads as well as the synapse state). The full model (``--scale 1``, about 3e8
synapses) therefore needs about 19 GiB; ``--scale 0.5`` about 9.5 GiB. See
RESULTS_brian2_microcircuit.md for measured figures.

Model (units ms, mV, pA, pF, Hz; all numbers from the parameter file)
---------------------------------------------------------------------
* Populations L23E L23I L4E L4I L5E L5I L6E L6I with ``sizes`` scaled by
  --scale S: N_i = round(S * size_i), at least 1 (round = half away from zero).
  All neurons live in one NeuronGroup; each population is a contiguous subgroup.
* Neuron (NEST iaf_psc_exp), method 'exact', dt from the file:
      dv/dt    = -(v - e_l)/tau_m + (i_ex + i_in)/c_m   (unless refractory)
      di_ex/dt = -i_ex/tau_syn ;  di_in/dt = -i_in/tau_syn
  threshold v > v_th, reset v = v_reset, refractory t_ref.
  v0 ~ Normal(v0_mean, v0_sd) per neuron (not clipped); i_ex = i_in = 0.
* Connectivity, for each target t and source s with p = conn_probs[t][s] > 0:
      K_full = round(log(1 - p) / log(1 - 1/(size_s * size_t)))   (full-scale sizes)
      K      = round(K_full * N_t / size_t)                        (in-degree kept)
  pre = randint(N_s, size=K), post = randint(N_t, size=K): multapses and
  autapses allowed. One Synapses object for excitatory sources
  (on_pre: i_ex_post += w) and one for inhibitory sources (i_in_post += w),
  with a per-synapse weight ``w`` and a per-synapse delay.
* Weights: excitatory sources w ~ Normal(w_mean, w_rel_sd*w_mean), redrawn
  while w < 0; L4E -> L23E mean and SD multiplied by w_l4e_to_l23e.
  Inhibitory sources: Normal(g*w_mean, |g*w_mean|*w_rel_sd), redrawn while w > 0.
* Delays: Normal(delay_exc, delay_rel_sd*delay_exc) for excitatory sources,
  Normal(delay_inh, delay_rel_sd*delay_inh) for inhibitory ones; draws below dt
  are set to dt. (Brian2 rounds each delay to the nearest whole time step.)
* Background: per target population PoissonInput(pop, 'i_ex', N=k_ext[t],
  rate=bg_rate, weight=w_mean) (k_ext is not scaled).
* All random numbers of the network (v0, connectivity, weights, delays) come
  from numpy's ``default_rng(seed)``, drawn in this order: v0 for all neurons,
  then per projection (targets outer, sources inner, pd14 order): pre, post,
  weights, delays. The Poisson drive uses Brian2's RNG, seeded with
  ``brian2.seed(seed)``. The network is therefore the same on both devices.

Output fields
-------------
peer, device, scale, neurons, synapses, populations, sizes, duration_s,
transient_s, seed, threads, rates_hz (per population, spikes in
[transient, duration] / N / (duration - transient), pd14 order), spikes (all
spikes of the run), spikes_window (spikes in [transient, duration]),
rates_nest_2016 and rate_ratio_nest_2016 (rates_hz / rates_nest_2016),
build_and_run_s, compile_s, binary_s, sim_s, sim_s_source, brian2_version,
numpy_version, peak_rss_gib, binary_peak_rss_gib, python_peak_rss_gib,
python_rss_at_run_gib, params.

* build_and_run_s: wall time from the start of network construction (including
  drawing the connectivity in numpy) until the results are available
  (cpp_standalone: + code generation + ``make`` + running the binary + loading
  results; runtime: + synapse creation + code generation + simulation).
* sim_s: Brian2's own measurement of the simulation loop only
  (``device._last_run_time``). In cpp_standalone this is measured inside the
  compiled binary around the main time-step loop (std::clock() CPU time when
  OpenMP is off, i.e. --threads 0, the default; omp_get_wtime() wall time when
  --threads >= 1). In runtime mode it is the wall time of the Python time-step
  loop after code preparation. It excludes synapse creation in both modes.
* compile_s: wall time of ``make``; binary_s: wall time of running the compiled
  binary (initialisation, loading arrays, synapse creation, simulation, writing
  results) -- cpp_standalone only.
* peak_rss_gib: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after the build, i.e.
  the largest child process of the run (the compiler or the binary).
  binary_peak_rss_gib: the peak resident set of the simulation binary alone
  (it is started through a tiny Python wrapper that reads its own
  RUSAGE_CHILDREN; the wrapper adds a few tens of ms to binary_s).
  python_peak_rss_gib: peak resident set of this Python process (RUSAGE_SELF);
  python_rss_at_run_gib: its resident set while the binary runs (the per-synapse
  arrays held by Brian2 are released before the binary starts).
  All in GiB (2^30 bytes); Linux only (ru_maxrss in KiB).
"""

import argparse
import gc
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time

EXC_POPS = ("L23E", "L4E", "L5E", "L6E")
_TMPDIRS = []  # temporary build directories, removed on exit

_BINARY_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.call(sys.argv[1:])\n"
    "with open('binary_maxrss_kib.txt', 'w') as f:\n"
    "    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(r)\n"
)


def round_half_away(x):
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def kib_to_gib(kib):
    return round(kib / 2 ** 20, 3)


def current_rss_gib():
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 30, 3)
    except (OSError, ValueError):
        return None


def default_params_path():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "src", "builtin", "pd14.toml"))


def build_connectivity(P, sizes_full, N, dt, rng):
    """Draw all synapses. Returns per source type ('exc', 'inh') a dict with
    global pre/post indices (int32), weights (pA) and delays (ms)."""
    import numpy as np
    pops = P["populations"]
    npop = len(pops)
    offsets = [0]
    for n in N:
        offsets.append(offsets[-1] + n)
    is_exc = [p in EXC_POPS for p in pops]

    # number of synapses per projection
    K = [[0] * npop for _ in range(npop)]
    for t in range(npop):
        for s in range(npop):
            p = float(P["conn_probs"][t][s])
            if p <= 0.0:
                continue
            k_full = round_half_away(
                math.log1p(-p) / math.log1p(-1.0 / (sizes_full[s] * sizes_full[t])))
            K[t][s] = round_half_away(k_full * N[t] / sizes_full[t])

    totals = {"exc": 0, "inh": 0}
    for t in range(npop):
        for s in range(npop):
            totals["exc" if is_exc[s] else "inh"] += K[t][s]
    out = {}
    for kind, tot in totals.items():
        out[kind] = dict(pre=np.empty(tot, dtype=np.int32),
                         post=np.empty(tot, dtype=np.int32),
                         w=np.empty(tot, dtype=np.float64),
                         d=np.empty(tot, dtype=np.float64), n=0)

    w_mean = float(P["w_mean"])
    w_rel_sd = float(P["w_rel_sd"])
    g = float(P["g"])
    l4e, l23e = pops.index("L4E"), pops.index("L23E")
    for t in range(npop):
        for s in range(npop):
            k = K[t][s]
            if k == 0:
                continue
            kind = "exc" if is_exc[s] else "inh"
            o = out[kind]
            a, b = o["n"], o["n"] + k
            o["pre"][a:b] = rng.integers(N[s], size=k) + offsets[s]
            o["post"][a:b] = rng.integers(N[t], size=k) + offsets[t]
            if is_exc[s]:
                mu = w_mean * (float(P["w_l4e_to_l23e"]) if (s == l4e and t == l23e) else 1.0)
                sd = abs(mu) * w_rel_sd
                w = rng.normal(mu, sd, size=k)
                bad = w < 0
                while bad.any():
                    w[bad] = rng.normal(mu, sd, size=int(bad.sum()))
                    bad = w < 0
                dmu = float(P["delay_exc"])
            else:
                mu = g * w_mean
                sd = abs(mu) * w_rel_sd
                w = rng.normal(mu, sd, size=k)
                bad = w > 0
                while bad.any():
                    w[bad] = rng.normal(mu, sd, size=int(bad.sum()))
                    bad = w > 0
                dmu = float(P["delay_inh"])
            o["w"][a:b] = w
            del w
            d = rng.normal(dmu, abs(dmu) * float(P["delay_rel_sd"]), size=k)
            d[d < dt] = dt
            o["d"][a:b] = d
            del d
            o["n"] = b
    return out, K, offsets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default=default_params_path(),
                    help="pd14 parameter file (TOML); default: src/builtin/pd14.toml "
                         "of the repository")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="population size factor (in-degrees are kept)")
    ap.add_argument("--duration", type=float, default=1.1, help="seconds")
    ap.add_argument("--transient", type=float, default=0.1,
                    help="seconds at the start excluded from the rates")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", choices=["runtime", "cpp_standalone"],
                    default="cpp_standalone")
    ap.add_argument("--threads", type=int, default=0,
                    help="cpp_standalone OpenMP threads (0 = no OpenMP, single thread)")
    ap.add_argument("--build-dir", default=None,
                    help="cpp_standalone project directory (default: a fresh temporary "
                         "directory, removed afterwards)")
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args()
    if not (0.0 <= args.transient < args.duration):
        ap.error("need 0 <= --transient < --duration")
    if args.scale <= 0:
        ap.error("--scale must be > 0")

    import tomllib
    with open(args.params, "rb") as f:
        P = tomllib.load(f)

    import numpy as np
    import brian2
    from brian2 import (NeuronGroup, Synapses, SpikeMonitor, PoissonInput, Network,
                        defaultclock, prefs, seed, set_device, device,
                        ms, mV, pA, pF, Hz, second)

    if not args.json:
        brian2.BrianLogger.log_level_info()
    else:
        brian2.BrianLogger.suppress_name("brian2")  # keep stdout to one JSON line
        sys.excepthook = sys.__excepthook__  # but still show tracebacks on stderr

    tmpdir = None
    build_dir = None
    if args.device == "cpp_standalone":
        if args.build_dir is None:
            tmpdir = tempfile.mkdtemp(prefix="brian2_pd14_")
            _TMPDIRS.append(tmpdir)
            build_dir = tmpdir
        else:
            build_dir = args.build_dir
        set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = args.threads
        prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c",
                                                     _BINARY_WRAPPER, "./main"]

    pops = list(P["populations"])
    sizes_full = [int(x) for x in P["sizes"]]
    N = [max(1, round_half_away(args.scale * n)) for n in sizes_full]
    n_total = sum(N)
    dt = float(P["dt"])

    t0 = time.perf_counter()
    seed(args.seed)
    rng = np.random.default_rng(args.seed)
    defaultclock.dt = dt * ms

    namespace = dict(
        tau_m=float(P["tau_m"]) * ms, c_m=float(P["c_m"]) * pF,
        e_l=float(P["e_l"]) * mV, v_reset=float(P["v_reset"]) * mV,
        v_th=float(P["v_th"]) * mV, tau_syn=float(P["tau_syn"]) * ms,
    )
    eqs = """
    dv/dt    = -(v - e_l)/tau_m + (i_ex + i_in)/c_m : volt (unless refractory)
    di_ex/dt = -i_ex/tau_syn : amp
    di_in/dt = -i_in/tau_syn : amp
    """
    G = NeuronGroup(n_total, eqs, threshold="v > v_th", reset="v = v_reset",
                    refractory=float(P["t_ref"]) * ms, method="exact",
                    namespace=namespace, name="pd14")
    v0 = rng.normal(float(P["v0_mean"]), float(P["v0_sd"]), size=n_total)
    G.v = v0 * mV
    del v0
    G.i_ex = 0 * pA
    G.i_in = 0 * pA

    conn, K, offsets = build_connectivity(P, sizes_full, N, dt, rng)
    syns = []
    n_syn = 0
    for kind, var in (("exc", "i_ex"), ("inh", "i_in")):
        c = conn.pop(kind)
        if c["n"] == 0:
            continue
        S = Synapses(G, G, model="w : amp", on_pre=f"{var}_post += w",
                     name=f"syn_{kind}")
        S.connect(i=c.pop("pre"), j=c.pop("post"))
        gc.collect()
        S.w = c.pop("w") * pA
        gc.collect()
        S.delay = c.pop("d") * ms
        n_syn += c["n"]
        del c
        gc.collect()
        syns.append(S)

    bg = []
    for t, pop in enumerate(pops):
        bg.append(PoissonInput(G[offsets[t]:offsets[t + 1]], "i_ex", N=int(P["k_ext"][t]),
                               rate=float(P["bg_rate"]) * Hz,
                               weight=float(P["w_mean"]) * pA))
    mon = SpikeMonitor(G, variables=[], name="spikes")
    net = Network(G, *syns, *bg, mon)
    net.run(args.duration * second)

    compile_s = binary_s = None
    peak_rss = binary_rss = rss_at_run = None
    if args.device == "cpp_standalone":
        device.build(directory=build_dir, compile=True, run=False,
                     with_output=not args.json)
        compile_s = device.timers["compile"]["make"]
        # the static arrays are on disk now: release Python's copies (and the
        # cached copies of the connection indices) before the binary runs
        device.static_arrays.clear()
        for var, val in list(device.array_cache.items()):
            if val is not None and getattr(val, "size", 0) > 100000:
                device.array_cache[var] = None
        gc.collect()
        try:
            import ctypes
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        rss_at_run = current_rss_gib()
        device.run(directory=build_dir, with_output=not args.json)
        binary_s = device.timers["run_binary"]
        peak_rss = kib_to_gib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        try:
            with open(os.path.join(build_dir, "binary_maxrss_kib.txt")) as f:
                binary_rss = kib_to_gib(int(f.read().strip()))
        except (OSError, ValueError):
            binary_rss = None
        sim_src = ("compiled binary, main loop, "
                   + ("std::clock CPU time" if args.threads == 0 else "omp_get_wtime wall time"))
    else:
        sim_src = "runtime Network.run loop wall time"
    sim_s = float(device._last_run_time)

    spk_i = np.asarray(mon.i[:], dtype=np.int64)
    spk_t = np.asarray(mon.t[:] / ms, dtype=np.float64)
    build_and_run_s = time.perf_counter() - t0

    win = spk_t >= args.transient * 1e3
    counts = np.bincount(spk_i[win], minlength=n_total)
    T = args.duration - args.transient
    rates = [float(counts[offsets[k]:offsets[k + 1]].sum()) / N[k] / T
             for k in range(len(pops))]
    ref = P.get("rates_nest_2016")
    ratio = None
    if ref is not None:
        ratio = [round(r / float(x), 4) if float(x) > 0 else None for r, x in zip(rates, ref)]

    out = dict(
        peer="brian2",
        model="pd14",
        device=args.device,
        scale=args.scale,
        neurons=n_total,
        synapses=int(n_syn),
        populations=pops,
        sizes=N,
        duration_s=args.duration,
        transient_s=args.transient,
        seed=args.seed,
        threads=args.threads if args.device == "cpp_standalone" else 1,
        rates_hz=[round(r, 4) for r in rates],
        spikes=int(len(spk_i)),
        spikes_window=int(win.sum()),
        rates_nest_2016=ref,
        rate_ratio_nest_2016=ratio,
        build_and_run_s=round(build_and_run_s, 3),
        compile_s=None if compile_s is None else round(compile_s, 3),
        binary_s=None if binary_s is None else round(binary_s, 3),
        sim_s=round(sim_s, 3),
        sim_s_source=sim_src,
        peak_rss_gib=peak_rss,
        binary_peak_rss_gib=binary_rss,
        python_peak_rss_gib=kib_to_gib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        python_rss_at_run_gib=rss_at_run,
        brian2_version=brian2.__version__,
        numpy_version=np.__version__,
        params=os.path.basename(args.params),
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        for d in _TMPDIRS:
            shutil.rmtree(d, ignore_errors=True)
    sys.exit(rc)
