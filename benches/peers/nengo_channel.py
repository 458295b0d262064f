"""Nengo's side of `lamina run channel` (optional: needs `pip install nengo 'numpy<2.3'`).

Nengo's learning example, as lamina builds it: a sine input of DIMS dimensions (dimension k is
0.8 sin(2 pi (1 + k/2) t)) into `pre` (NEURONS LIF neurons, Nengo's defaults); `pre -> post`
starts out computing zero and PES (learning rate 1e-4) trains it with error = post - pre; `post`
is probed through a 10 ms lowpass. Prints one JSON line with build_s (network to ready
simulator, Nengo's decoder cache off: lamina solves on every build), sim_s, steps_per_s and
rmse_first_1s / rmse_last_1s of `post` against the input, fitted as `channel::fit` does (best
lag below 100 steps).

    python benches/peers/nengo_channel.py [--neurons 1000] [--dims 1] [--duration 10] [--seed 1]
"""

import argparse
import json
import time

import numpy as np
import nengo


def fit(out, dt, freqs, start, stop):
    best = (0, float("inf"))
    for lag in range(min(100, start + 1)):
        s = np.arange(start, stop)
        t = (s + 1 - lag) * dt
        x = 0.8 * np.sin(2 * np.pi * np.outer(t, freqs))
        rmse = float(np.sqrt(np.mean((out[s] - x) ** 2)))
        if rmse < best[1]:
            best = (lag, rmse)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neurons", type=int, default=1000)
    ap.add_argument("--dims", type=int, default=1)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    freqs = 1.0 + 0.5 * np.arange(args.dims)
    d = args.dims

    nengo.rc.set("decoder_cache", "enabled", "False")
    t0 = time.perf_counter()
    with nengo.Network(seed=args.seed) as net:
        stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * freqs * t))
        pre = nengo.Ensemble(args.neurons, d)
        post = nengo.Ensemble(args.neurons, d)
        error = nengo.Node(size_in=d)
        nengo.Connection(stim, pre)
        conn = nengo.Connection(pre, post, function=lambda x: np.zeros(d))
        conn.learning_rule_type = nengo.PES(learning_rate=1e-4)
        nengo.Connection(post, error)
        nengo.Connection(pre, error, transform=-1)
        nengo.Connection(error, conn.learning_rule)
        nengo.Probe(pre, synapse=0.01)
        p_post = nengo.Probe(post, synapse=0.01)
    sim = nengo.Simulator(net, progress_bar=False)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    sim.run(args.duration)
    sim_s = time.perf_counter() - t1
    out = sim.data[p_post]
    steps = out.shape[0]
    second = min(int(round(1.0 / sim.dt)), steps)
    lag, rmse_last = fit(out, sim.dt, freqs, steps - min(second, steps - 99), steps)
    _, rmse_first = fit(out, sim.dt, freqs, 99, max(second, 100))
    print(
        json.dumps(
            {
                "peer": f"nengo {nengo.__version__} (numpy {np.__version__})",
                "model": "channel",
                "neurons": 2 * args.neurons,
                "dims": d,
                "steps": steps,
                "build_s": build_s,
                "sim_s": sim_s,
                "steps_per_s": steps / sim_s,
                "rmse_first_1s": rmse_first,
                "rmse_last_1s": rmse_last,
                "lag_ms": lag * sim.dt * 1e3,
            }
        )
    )


if __name__ == "__main__":
    main()
