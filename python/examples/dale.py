"""Dale's principle: weights found by non-negative least squares (each pre neuron all
excitatory or all inhibitory), then injected between steps into a running model whose
neuron-to-neuron connection starts at zero (a Nengo forum question).

lamina's ``Dale`` solver minimises the regularised least-squares objective under the sign
constraints exactly (an active-set NNLS), fitted to the post neurons' currents.
"""

import os

import numpy as np

import lamina
from _common import args, plot, report, rmse

a = args(__doc__)
T = 1.0 if a.quick else 3.0


def model(dale):
    net = lamina.NefNetwork(seed=4)  # same seed and names: the same neurons in both models
    stim = net.node("stim", lambda t: np.sin(2 * np.pi * t))
    pre = net.ensemble("pre", 200, 1)
    post = net.ensemble("post", 200, 1)
    net.connect(stim, pre)
    if dale:
        conn = net.connect(pre, post, function=lambda x: x ** 2,
                           solver=lamina.Dale(reg=0.1, excitatory=0.8))
    else:
        conn = net.connect(pre.neurons, post.neurons, transform=np.zeros((200, 200)))
    probes = net.probe(stim), net.probe(post, synapse=lamina.Lowpass(0.01))
    return net, post, conn, probes


# 1. Find the weights: post x pre input currents, signs by pre neuron.
net, post, conn, _ = model(dale=True)
sim = lamina.NefSimulator(net)
currents = np.asarray(sim.full_weights(conn), dtype=np.float64)
gain = sim.ensemble_params(post)["gain"]
excitatory = sim.connection_params(conn)["excitatory"]
signs_hold = all((currents[:, j] >= 0).all() if ex else (currents[:, j] <= 0).all()
                 for j, ex in enumerate(excitatory))

# 2. Inject them between steps into the second model (a weight into neurons is multiplied by
# the post gain, as in Nengo, so divide it out).
net2, post2, conn2, (p_stim, p_post) = model(dale=False)
sim2 = lamina.NefSimulator(net2)
sim2.run(T)
sim2.set_weights(conn2, currents / gain[:, None])
sim2.run(T)
x, y, t = sim2.data(p_stim)[:, 0], sim2.data(p_post)[:, 0], sim2.trange(p_stim)
n, settle = len(t) // 2, int(0.1 / sim2.dt)
png = plot(os.path.join(a.out, "dale.png"), t, {"x^2": x ** 2, "post": y},
           f"Dale weights injected at t = {T} s")
report(example="dale", backend=sim2.backend_description(),
       excitatory_fraction=float(np.mean(excitatory)), signs_hold=bool(signs_hold),
       rmse_before=rmse(x[settle:n] ** 2, y[settle:n]),
       rmse_after=rmse(x[n + settle:] ** 2, y[n + settle:]), plot=png)
