"""Cut every input from ensemble A into chosen neurons of ensemble B, in a running channel.

The Nengo forum's question: "remove all incoming connections from A to some neurons of B,
keeping their other inputs". With lamina.nengo the network is unchanged Nengo; the lesion
is one call between steps, on a plain decoded connection.
"""

import os

import nengo
import numpy as np

import lamina.nengo
from _common import args, plot, report, rmse

a = args(__doc__)
T = 0.5 if a.quick else 2.0

with nengo.Network(seed=1) as net:
    stim = nengo.Node(lambda t: np.sin(2 * np.pi * t))
    A = nengo.Ensemble(200, 1)
    B = nengo.Ensemble(200, 1)
    bias_in = nengo.Node(0.0)  # B's other input, which stays
    nengo.Connection(stim, A)
    a_to_b = nengo.Connection(A, B)
    nengo.Connection(bias_in, B)
    p_stim = nengo.Probe(stim)
    p_b = nengo.Probe(B, synapse=0.01)

cut = np.arange(0, 200, 2)  # every other neuron of B
with lamina.nengo.Simulator(net, progress_bar=False) as sim:
    sim.run(T)
    sim.lesion(a_to_b, post_neurons=cut)
    sim.run(T)
    t, x, y = sim.trange(), sim.data[p_stim][:, 0], sim.data[p_b][:, 0]
    n = len(t) // 2
    settle = int(0.1 / sim.dt)
    before, after = rmse(x[settle:n], y[settle:n]), rmse(x[n + settle:], y[n + settle:])
    png = plot(os.path.join(a.out, "lesion.png"), t, {"input": x, "B": y},
               f"B decodes the input; half its neurons lose A at t = {T} s")
    report(example="lesion", backend=sim.backend_description(), neurons_cut=len(cut),
           rmse_before=before, rmse_after=after, plot=png)
