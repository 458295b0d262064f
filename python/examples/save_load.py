"""Learn a channel with PES, save the learned weights, double them and load them into a
second model, which then represents 2x with no learning (a Nengo forum question).

The weights come out of the running simulator as a numpy array (``sim.weights``) and go into
the second model as an ordinary Nengo transform from ``pre.neurons``.
"""

import os

import nengo
import numpy as np

import lamina.nengo
from _common import args, plot, report, rmse

a = args(__doc__)
T = 2.0 if a.quick else 10.0


def model(transform=None):
    with nengo.Network(seed=2) as net:
        net.stim = nengo.Node(lambda t: 0.8 * np.sin(2 * np.pi * t))
        # Seeded ensembles: the same neurons in both models, whatever else they hold.
        net.pre = nengo.Ensemble(200, 1, seed=10)
        net.post = nengo.Ensemble(200, 1, radius=2, seed=11)
        nengo.Connection(net.stim, net.pre)
        if transform is None:
            net.conn = nengo.Connection(net.pre, net.post, function=lambda x: 0,
                                        learning_rule_type=nengo.PES(2e-4))
            err = nengo.Node(size_in=1)
            nengo.Connection(net.post, err)
            nengo.Connection(net.stim, err, transform=-1)
            nengo.Connection(err, net.conn.learning_rule)
        else:
            nengo.Connection(net.pre.neurons, net.post, transform=transform)
        net.p_stim = nengo.Probe(net.stim)
        net.p_post = nengo.Probe(net.post, synapse=0.01)
    return net


net = model()
with lamina.nengo.Simulator(net, progress_bar=False) as sim:
    sim.run(T)
    path = os.path.join(a.out, "learned_weights.npz")
    np.savez(path, weights=sim.weights(net.conn))
    n = int(1.0 / sim.dt)
    learned = rmse(sim.data[net.p_stim][-n:], sim.data[net.p_post][-n:])

doubled = 2 * np.load(path)["weights"]
net2 = model(transform=doubled)
with lamina.nengo.Simulator(net2, progress_bar=False) as sim2:
    sim2.run(1.0)
    t, x, y = sim2.trange(), sim2.data[net2.p_stim][:, 0], sim2.data[net2.p_post][:, 0]
    settle = int(0.1 / sim2.dt)
    png = plot(os.path.join(a.out, "save_load.png"), t, {"2 x input": 2 * x, "post": y},
               "Second model, learned weights doubled")
    report(example="save_load", backend=sim2.backend_description(), learn_s=T,
           rmse_learned_last_1s=learned, rmse_doubled_vs_2x=rmse(2 * x[settle:], y[settle:]),
           weights=path, plot=png)
