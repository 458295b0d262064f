"""The Potjans-Diesmann (2014) cortical microcircuit from Python: 77,169 neurons and about
3e8 synapses at scale 1 (a Brian2 user's model), with the rate of every population and a
raster plot. ``--scale`` shrinks the neuron counts and keeps the in-degrees.
"""

import os

import numpy as np

import lamina
from _common import args, report

a = args(__doc__, scale=1.0, duration=1.1, transient=0.1)
if a.quick:
    a.scale, a.duration, a.transient = 0.02, 0.3, 0.1

mc = lamina.builtin.microcircuit(scale=a.scale, seed=1)
sim = lamina.Simulator(mc["network"])
sim.run(a.duration)
rates = {}
for pop, probe in zip(mc["populations"], mc["spikes"]):
    rates[pop.name] = float(np.mean(sim.rates_hz(probe, len(pop), t_start=a.transient)))

png = None
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    offset = 0
    for pop, probe in zip(mc["populations"], mc["spikes"]):
        _, times, neurons = sim.spikes(probe)
        keep = neurons % max(1, len(pop) // 200) == 0  # at most ~200 rows a population
        ax.plot(times[keep], offset + neurons[keep], ",", label=pop.name)
        offset += len(pop)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    ax.invert_yaxis()
    ax.legend(markerscale=20, fontsize=7, loc="upper right")
    png = os.path.join(a.out, "microcircuit_raster.png")
    fig.savefig(png, dpi=100)
    plt.close(fig)
except ImportError:
    pass

report(example="microcircuit", backend=sim.backend_description(), scale=a.scale,
       neurons=mc["network"].neuron_count, duration_s=a.duration, build_s=sim.build_seconds,
       rates_hz=rates, plot=png)
