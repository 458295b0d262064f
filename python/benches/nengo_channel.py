"""The NEF channel (Nengo's PES learning example, as `lamina run channel` builds it) three
ways in one process: nengo.Simulator, lamina.nengo.Simulator on the same nengo.Network, and
the same model written with lamina's Python API (a Rust model behind thin bindings). Prints
one JSON line per run: build_s (network to ready simulator) and steps_per_s.

    python python/benches/nengo_channel.py [--neurons 1000] [--dims 1] [--duration 2]
"""

import argparse
import json
import platform
import time

import nengo
import numpy as np

import lamina
import lamina.nengo


def nengo_net(n, d, seed):
    freqs = 1.0 + 0.5 * np.arange(d)
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * freqs * t))
        pre = nengo.Ensemble(n, d)
        post = nengo.Ensemble(n, d)
        error = nengo.Node(size_in=d)
        nengo.Connection(stim, pre)
        conn = nengo.Connection(pre, post, function=lambda x: np.zeros(d),
                                learning_rule_type=nengo.PES(learning_rate=1e-4))
        nengo.Connection(post, error)
        nengo.Connection(pre, error, transform=-1)
        nengo.Connection(error, conn.learning_rule)
        nengo.Probe(pre, synapse=0.01)
        nengo.Probe(post, synapse=0.01)
    return net


def lamina_net(n, d, seed):
    freqs = 1.0 + 0.5 * np.arange(d)
    net = lamina.NefNetwork(seed=seed)
    stim = net.node("stim", lambda t: 0.8 * np.sin(2 * np.pi * freqs * t), size_out=d)
    pre = net.ensemble("pre", n, d)
    post = net.ensemble("post", n, d)
    error = net.node("error", size_in=d)
    net.connect(stim, pre)
    conn = net.connect(pre, post, function=lambda x: np.zeros(d), size_mid=d)
    net.connect(post, error)
    net.connect(pre, error, transform=-1.0)
    net.connect(error, net.pes(conn, 1e-4))
    net.probe(pre, synapse=lamina.Lowpass(0.01))
    net.probe(post, synapse=lamina.Lowpass(0.01))
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neurons", type=int, default=1000, help="per ensemble")
    ap.add_argument("--dims", type=int, default=1)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", default="auto")
    a = ap.parse_args()
    nengo.rc.set("decoder_cache", "enabled", "False")
    common = {"model": "channel", "neurons": 2 * a.neurons, "dims": a.dims,
              "duration_s": a.duration, "machine": platform.processor() or platform.machine()}
    steps = int(round(a.duration / 0.001))

    for name in ("nengo.Simulator", "lamina.nengo.Simulator", "lamina (Python API)"):
        t0 = time.perf_counter()
        if name == "nengo.Simulator":
            sim = nengo.Simulator(nengo_net(a.neurons, a.dims, a.seed), progress_bar=False)
            backend = f"nengo {nengo.__version__}"
        elif name == "lamina.nengo.Simulator":
            sim = lamina.nengo.Simulator(nengo_net(a.neurons, a.dims, a.seed),
                                         progress_bar=False, backend=a.backend)
            backend = sim.backend_description().split(" (")[0]
        else:
            sim = lamina.NefSimulator(lamina_net(a.neurons, a.dims, a.seed), backend=a.backend)
            backend = sim.backend_description().split(" (")[0]
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run_steps(steps) if name != "nengo.Simulator" else sim.run(a.duration)
        sim_s = time.perf_counter() - t1
        print(json.dumps({**common, "simulator": name, "backend": backend, "build_s": build_s,
                          "sim_s": sim_s, "steps_per_s": steps / sim_s}), flush=True)


if __name__ == "__main__":
    main()
