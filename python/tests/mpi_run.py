"""One spiking network on the processes of ``mpirun``, from Python with mpi4py: every process
runs this script (``python/test.sh`` starts it on 2 and 3 processes), builds the network of
``test_distributed.py`` and runs it with ``comm=MPI.COMM_WORLD`` (STDP included), with a lesion, a checkpoint
per process and a resume, and compares every probe with a run of the same network in this
process alone. Exits with status 1 (and mpirun stops the others) when anything differs.
"""

import os
import sys
import tempfile

import numpy as np
from mpi4py import MPI

import lamina

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_distributed import network, records  # noqa: E402


def main():
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()

    net, exc, inh, *probes = network()
    alone = lamina.Simulator(net, backend="cpu")
    alone.run(0.05)
    total = alone.lesion(inh, exc)
    alone.run(0.1)
    want = records(alone, probes, net)

    net, exc, inh, *probes = network()
    sim = lamina.Simulator(net, backend="cpu", comm=comm)
    assert (sim.rank, sim.size) == (rank, size), (sim.rank, sim.size)
    sim.run(0.05)
    cut = sim.lesion(inh, exc)
    assert cut == total, f"rank {rank} counted {cut} synapses cut, one process {total}"
    folder = comm.bcast(tempfile.mkdtemp() if rank == 0 else None)
    path = os.path.join(folder, "run.npz")
    sim.checkpoint(path)
    again = lamina.Simulator(net, backend="cpu", comm=comm)
    again.load_checkpoint(path)
    again.run(0.1)
    got = records(again, probes, net)
    for k, (g, w) in enumerate(zip(got, want)):
        pairs = zip(g, w) if isinstance(g, tuple) else [(g, w)]
        for u, v in pairs:
            if not np.array_equal(u, v):
                print(f"FAIL rank {rank} of {size}: record {k} differs from one process's",
                      flush=True)
                sys.exit(1)
    files = sorted(os.listdir(folder))
    assert files == [f"run.rank{r}-of-{size}.npz" for r in range(size)], files
    comm.Barrier()
    if rank == 0:
        for f in files:
            os.remove(os.path.join(folder, f))
        os.rmdir(folder)
    print(f"ok   rank {rank} of {size}: {len(got[0][0])} + {len(got[1][0])} spikes, the state "
          f"samples and the learned weights of one process, {cut} synapses cut, resumed from a "
          f"checkpoint per process ({sim.communicator})", flush=True)


if __name__ == "__main__":
    main()
