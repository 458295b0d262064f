"""Nengo's side of `lamina run channel` (optional: needs `pip install nengo 'numpy<2.3'`).

The same network: a sine input of DIMS dimensions (dimension k is 0.8 sin(2 pi (1 + k/2) t))
through a chain of ENSEMBLES LIF ensembles of NEURONS neurons each (Nengo's defaults), read out
by a probe with a 10 ms lowpass. Prints one JSON line with build_s and sim_s, measured the same
way lamina's are (build: network to ready simulator, with Nengo's decoder cache off; sim: the
run itself), and the lag and rmse of the output as `lamina run channel` computes them.

    python benches/peers/nengo_channel.py [--neurons 100] [--dims 1] [--ensembles 2] [--duration 1]
"""

import argparse
import json
import time

import numpy as np
import nengo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neurons", type=int, default=100)
    ap.add_argument("--dims", type=int, default=1)
    ap.add_argument("--ensembles", type=int, default=2)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    freqs = 1.0 + 0.5 * np.arange(args.dims)

    # Nengo keeps solved decoders in a cache on disk; lamina solves every build, so measure
    # Nengo without its cache too.
    nengo.rc.set("decoder_cache", "enabled", "False")
    t0 = time.perf_counter()
    with nengo.Network(seed=args.seed) as net:
        stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * freqs * t))
        prev = stim
        for k in range(args.ensembles):
            e = nengo.Ensemble(args.neurons, args.dims)
            nengo.Connection(prev, e)
            prev = e
        probe = nengo.Probe(prev, synapse=0.01)
    sim = nengo.Simulator(net, progress_bar=False)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    sim.run(args.duration)
    sim_s = time.perf_counter() - t1
    # The lag (steps, < 200) that best aligns output and input, and the rmse there, over the
    # steps after the first 100: as `channel::fit` in lamina.
    out = sim.data[probe]
    steps = out.shape[0]
    best = (0, float("inf"))
    for lag in range(min(200, steps)):
        s = np.arange(max(100, lag), steps)
        t = (s - lag + 1) * sim.dt
        x = 0.8 * np.sin(2 * np.pi * np.outer(t, freqs))
        rmse = float(np.sqrt(np.mean((out[s] - x) ** 2)))
        if rmse < best[1]:
            best = (lag, rmse)
    print(
        json.dumps(
            {
                "peer": f"nengo {nengo.__version__} (numpy {np.__version__})",
                "model": "channel",
                "neurons": args.neurons * args.ensembles,
                "ensembles": args.ensembles,
                "dims": args.dims,
                "build_s": build_s,
                "sim_s": sim_s,
                "rtf": sim_s / args.duration,
                "rmse": best[1],
                "lag_ms": best[0] * sim.dt * 1e3,
            }
        )
    )


if __name__ == "__main__":
    main()
