"""Reference runs of Nengo for lamina's NEF tests (optional: needs `pip install nengo 'numpy<2.3'`).

Builds two small models with every random parameter fixed explicitly (gains, biases, encoders,
eval points, initial voltages of 0), so lamina can build the very same models, runs them in
Nengo 4 and writes what they produced to tests/data/nengo_nef.json:

- channel: a sine node -> ensemble A (50 LIF) -> ensemble B (50 LIF) computing x^2; A's spike
  count per neuron over 1 s and B's decoded output (Lowpass 10 ms probe).
- pes: pre -> post learning the identity with PES (rate 1e-4) from a function that returns 0,
  error = post - stim; the error (Lowpass 10 ms probe) over 2 s.

Run from the repository root:  python benches/peers/nengo_nef.py
"""

import json
import sys

import numpy as np
import nengo

DT = 0.001
OUT = "tests/data/nengo_nef.json"


def params(rng, n):
    lif = nengo.LIF()
    max_rates = rng.uniform(200, 400, n)
    intercepts = rng.uniform(-0.9, 0.9, n)
    gain, bias = lif.gain_bias(max_rates, intercepts)
    enc = rng.choice([-1.0, 1.0], size=(n, 1))
    return gain, bias, enc


def ensemble(n, gain, bias, enc, eval_points):
    return nengo.Ensemble(
        n,
        1,
        gain=gain,
        bias=bias,
        encoders=enc,
        eval_points=eval_points,
        neuron_type=nengo.LIF(initial_state={"voltage": nengo.dists.Choice([0.0])}),
    )


def main():
    rng = np.random.RandomState(7)
    eval_points = rng.uniform(-1, 1, size=(500, 1))
    a = params(rng, 50)
    b = params(rng, 50)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(lambda t: np.sin(2 * np.pi * t))
        ea = ensemble(50, *a, eval_points)
        eb = ensemble(50, *b, eval_points)
        nengo.Connection(stim, ea)
        nengo.Connection(ea, eb, function=lambda x: x**2)
        p_spikes = nengo.Probe(ea.neurons)
        p_b = nengo.Probe(eb, synapse=0.01)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(1.0)
    counts = (sim.data[p_spikes] > 0).sum(axis=0)

    with nengo.Network(seed=0) as net:
        stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * t))
        pre = ensemble(50, *a, eval_points)
        post = ensemble(50, *b, eval_points)
        error = nengo.Node(size_in=1)
        nengo.Connection(stim, pre)
        conn = nengo.Connection(pre, post, function=lambda x: [0.0])
        conn.learning_rule_type = nengo.PES(learning_rate=1e-4)
        nengo.Connection(post, error)
        nengo.Connection(stim, error, transform=-1)
        nengo.Connection(error, conn.learning_rule)
        p_err = nengo.Probe(error, synapse=0.01)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim2:
        sim2.run(2.0)

    out = {
        "generator": f"benches/peers/nengo_nef.py, nengo {nengo.__version__}, numpy {np.__version__}",
        "dt": DT,
        "eval_points": eval_points[:, 0].tolist(),
        "a": {"gain": a[0].tolist(), "bias": a[1].tolist(), "encoders": a[2][:, 0].tolist()},
        "b": {"gain": b[0].tolist(), "bias": b[1].tolist(), "encoders": b[2][:, 0].tolist()},
        "channel_a_spike_counts": counts.tolist(),
        "channel_b_decoded": [round(float(v), 6) for v in sim.data[p_b][:, 0]],
        "pes_error": [round(float(v), 6) for v in sim2.data[p_err][:, 0]],
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
