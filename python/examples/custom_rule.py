"""A learning rule written in Python, without a learning-rule class: every N steps, read the
pre activities and the error, and write new decoders (a Nengo forum question: "modify
decoders at runtime from a node").
"""

import os

import nengo
import numpy as np

import lamina.nengo
from _common import args, plot, report, rmse

a = args(__doc__)
T = 2.0 if a.quick else 10.0
EVERY = 10  # steps between updates
RATE = 2e-4

with nengo.Network(seed=3) as net:
    stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * t))
    pre = nengo.Ensemble(200, 1)
    post = nengo.Ensemble(200, 1)
    nengo.Connection(stim, pre)
    conn = nengo.Connection(pre, post, function=lambda x: 0)
    p_stim = nengo.Probe(stim)
    p_post = nengo.Probe(post, synapse=0.01)
    p_act = nengo.Probe(pre.neurons, synapse=0.005)

with lamina.nengo.Simulator(net, progress_bar=False) as sim:
    while sim.time < T - 1e-9:
        sim.run_steps(EVERY)
        error = sim.latest(p_post) - sim.latest(p_stim)           # post - target
        activity = sim.latest(p_act)                              # filtered rates, Hz
        w = sim.weights(conn)                                     # 1 x 200 decoders
        w -= RATE * EVERY * sim.dt / pre.n_neurons * np.outer(error, activity)
        sim.set_weights(conn, w)
    t, x, y = sim.trange(), sim.data[p_stim][:, 0], sim.data[p_post][:, 0]
    n = min(len(y), int(1.0 / sim.dt))
    png = plot(os.path.join(a.out, "custom_rule.png"), t, {"input": x, "post": y},
               f"A delta rule in Python, every {EVERY} steps")
    report(example="custom_rule", backend=sim.backend_description(), every_n_steps=EVERY,
           rmse_last_1s=rmse(x[-n:], y[-n:]), rmse_start=float(np.sqrt(np.mean(x[-n:] ** 2))),
           plot=png)
