#!/usr/bin/env python3
"""Brian2 peer for lamina's built-in ``cuba`` model (Vogels-Abbott CUBA benchmark).

Purpose
-------
Optional side-by-side check of lamina's ``cuba`` model against Brian2: it builds
the same network as Brian2's own CUBA example (Vogels & Abbott 2005,
current-based synapses) with the parameters lamina uses, runs it, and prints one
JSON line with the spike count, the mean firing rate and timings.

This script is NOT needed by lamina's build or test suite; nothing in the
repository imports or calls it.

Install
-------
    pip install brian2 'numpy<2.3'
A C++ compiler (g++) is needed for the default ``cpp_standalone`` device (and
for Brian2's Cython code generation in ``runtime`` mode).

Usage
-----
    python3 benches/peers/brian2_cuba.py --neurons 4000 --duration 1.0 --seed 1 --json
    python3 benches/peers/brian2_cuba.py --device runtime --seed 3 --json

Model (identical to lamina's ``cuba``)
--------------------------------------
* N neurons (--neurons, default 4000); i < 0.8 N excitatory, the rest inhibitory.
* dv/dt = (ge+gi-(v-El))/taum (unless refractory); dge/dt = -ge/taue; dgi/dt = -gi/taui
* taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
  refractory 5 ms, threshold v > Vt, reset v = Vr, method 'exact', dt 0.1 ms.
* v0 = Vr + rand()*(Vt-Vr), ge = gi = 0.
* Excitatory synapses: ge += we, we = 1.62 mV; inhibitory: gi += wi, wi = -9 mV.
  Connection probability p = 80/N (self-connections allowed, as in Brian2's
  example), delay 0.1 ms (one time step) on both synapse objects.

Output fields
-------------
peer, device, neurons, synapses, duration_s, seed, threads, spikes,
mean_rate_hz (= spikes / N / duration), build_and_run_s, sim_s, sim_s_source,
plus compile_s / binary_s (cpp_standalone only) and brian2_version.

* build_and_run_s: wall-clock time from the start of network construction until
  the results are available (cpp_standalone: code generation + compilation +
  running the binary + loading results; runtime: construction incl. synapse
  creation + code generation/Cython compilation + simulation).
* sim_s: Brian2's own measurement of the simulation loop only
  (``device._last_run_time``). In cpp_standalone this is measured inside the
  compiled binary around the main time-step loop (std::clock() CPU time when
  OpenMP is off, i.e. --threads 0, the default; omp_get_wtime() wall time when
  --threads >= 1). In runtime mode it is the wall time of the Python time-step
  loop, after code preparation. It excludes synapse creation in both modes.
* compile_s: wall time of ``make`` (cpp_standalone); binary_s: wall time of
  running the compiled binary (includes initialisation and synapse creation).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1.0, help="seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", choices=["runtime", "cpp_standalone"],
                    default="cpp_standalone")
    ap.add_argument("--threads", type=int, default=0,
                    help="cpp_standalone OpenMP threads (0 = no OpenMP, single thread)")
    ap.add_argument("--build-dir", default=None,
                    help="cpp_standalone project directory (default: a fresh temporary "
                         "directory, removed afterwards); reusing one allows incremental builds")
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args()

    import brian2
    from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock,
                        prefs, seed, set_device, device, ms, mV, second)

    if not args.json:
        brian2.BrianLogger.log_level_info()
    else:
        brian2.BrianLogger.suppress_name("brian2")  # keep stdout to one JSON line

    tmpdir = None
    if args.device == "cpp_standalone":
        if args.build_dir is None:
            tmpdir = tempfile.mkdtemp(prefix="brian2_cuba_")
            build_dir = tmpdir
        else:
            build_dir = args.build_dir
        set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = args.threads

    N = args.neurons
    NE = int(0.8 * N)
    p = 80.0 / N

    taum = 20 * ms
    taue = 5 * ms
    taui = 10 * ms
    Vt = -50 * mV
    Vr = -60 * mV
    El = -49 * mV
    we = 1.62 * mV   # (60*0.27/10) mV
    wi = -9.0 * mV   # (-20*4.5/10) mV

    t0 = time.perf_counter()
    seed(args.seed)
    defaultclock.dt = 0.1 * ms

    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr",
                    refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV

    Ce = Synapses(P, P, on_pre="ge += we", delay=0.1 * ms)
    Ci = Synapses(P, P, on_pre="gi += wi", delay=0.1 * ms)
    Ce.connect("i<NE", p=p)
    Ci.connect("i>=NE", p=p)
    Ce.delay = 0.1 * ms
    Ci.delay = 0.1 * ms

    mon = SpikeMonitor(P, record=False)
    net = Network(P, Ce, Ci, mon)
    net.run(args.duration * second,
            namespace=dict(Vt=Vt, Vr=Vr, El=El, taum=taum, taue=taue, taui=taui,
                           we=we, wi=wi, NE=NE))

    compile_s = binary_s = None
    if args.device == "cpp_standalone":
        device.build(directory=build_dir, compile=True, run=True,
                     with_output=not args.json)
        compile_s = device.timers["compile"]["make"]
        binary_s = device.timers["run_binary"]
        sim_src = ("compiled binary, main loop, "
                   + ("std::clock CPU time" if args.threads == 0 else "omp_get_wtime wall time"))
    else:
        sim_src = "runtime Network.run loop wall time"
    build_and_run_s = time.perf_counter() - t0
    sim_s = float(device._last_run_time)

    spikes = int(mon.num_spikes)
    synapses = int(len(Ce) + len(Ci))
    out = dict(
        peer="brian2",
        device=args.device,
        neurons=N,
        synapses=synapses,
        duration_s=args.duration,
        seed=args.seed,
        threads=args.threads if args.device == "cpp_standalone" else 1,
        spikes=spikes,
        mean_rate_hz=spikes / N / args.duration,
        build_and_run_s=round(build_and_run_s, 4),
        sim_s=round(sim_s, 4),
        sim_s_source=sim_src,
        compile_s=None if compile_s is None else round(compile_s, 4),
        binary_s=None if binary_s is None else round(binary_s, 4),
        brian2_version=brian2.__version__,
    )
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
