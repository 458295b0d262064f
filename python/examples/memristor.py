"""Memristor synapses: every synapse of pre.neurons -> post.neurons is a pair of memristors
(lamina's built-in ``memristor`` synapse model, after Tiotto et al.'s mPES), trained by the
error post - input; the sign of the error picks which device a pre spike pulses (a Nengo forum
question: "call a custom function on an object every timestep").
"""

import os

import numpy as np

import lamina
from _common import args, plot, report, rmse

a = args(__doc__)
LEARN = 10.0 if a.quick else 20.0
TEST = 1.0 if a.quick else 2.0
N = 100

net = lamina.NefNetwork(seed=3)
stim = net.node("stim", lambda t: 0.8 * np.sin(2 * np.pi * 0.5 * t))
pre = net.ensemble("pre", N, 1)
post = net.ensemble("post", N, 1)
net.connect(stim, pre)
conn = net.connect(pre.neurons, post.neurons, transform=np.zeros((N, N)))
rule = net.learn(conn, "memristor")
net.connect(post, rule)
net.connect(stim, rule, transform=-1.0)
p_stim = net.probe(stim)
p_post = net.probe(post, synapse=lamina.Lowpass(0.01))

sim = lamina.NefSimulator(net)
threshold = sim.rule_param(rule, "err_threshold")
sim.set_rule_param(rule, "err_threshold", 1e30)     # no learning: a baseline
sim.run(TEST)
before = (0, sim.n_steps)
sim.set_rule_param(rule, "err_threshold", threshold)
conductance = []
for _ in range(int(round(LEARN / 0.1))):
    sim.run(0.1)
    conductance.append(1.0 / sim.rule_state(rule, "r_pos")[0, :4])
sim.set_rule_param(rule, "err_threshold", 1e30)
start = sim.n_steps
sim.run(TEST)
x, y = sim.data(p_stim)[:, 0], sim.data(p_post)[:, 0]
settle = int(0.2 / sim.dt)
g = np.array(conductance)
png = plot(os.path.join(a.out, "memristor.png"), np.arange(1, len(g) + 1) * 0.1,
           {f"G+ of synapse (0, {j})": g[:, j] for j in range(4)},
           "Conductances of four positive devices while learning")
report(example="memristor", backend=sim.backend_description(), synapses=N * N, learn_s=LEARN,
       rmse_before=rmse(x[before[0] + settle:before[1]], y[before[0] + settle:before[1]]),
       rmse_after=rmse(x[start + settle:], y[start + settle:]), plot=png)
