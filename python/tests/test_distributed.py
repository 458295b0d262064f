"""One spiking network on several processes from Python: ``Simulator(net, comm=...)`` gives the
spikes of one process. Here the processes are threads with a communicator of mpi4py's method
names (``mpi_run.py``, run by ``python/test.sh`` under ``mpirun``, does it with mpi4py itself).
"""

import threading

import numpy as np
import pytest

import lamina


class ThreadComm:
    """Ranks as threads of one process, with mpi4py's method names. A thread waiting here
    releases the interpreter lock, so the others can reach the same exchange."""

    def __init__(self, rank, shared):
        self.rank, self.shared = rank, shared

    @staticmethod
    def group(size):
        shared = {"slots": [None] * size, "barrier": threading.Barrier(size), "calls": [0] * size}
        return [ThreadComm(r, shared) for r in range(size)]

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return len(self.shared["slots"])

    def allgather(self, obj):
        self.shared["calls"][self.rank] += 1
        self.shared["slots"][self.rank] = obj
        self.shared["barrier"].wait()
        out = list(self.shared["slots"])
        self.shared["barrier"].wait()
        return out

    def Barrier(self):
        self.shared["barrier"].wait()


def network(seed=11):
    """Two populations with delays of 1.5 to 3 ms between them, STDP on the excitatory
    synapses onto excitatory neurons, Poisson drive and a state probe of neurons the last rank
    owns."""
    net = lamina.Network(seed=seed)
    exc = net.population("exc", 160, v_init_mv=lamina.Uniform(-70, -55))
    inh = net.population("inh", 40)
    net.connect(exc, inh, "fixed_probability", weight_pa=300.0, delay_ms=1.5, p=0.2)
    net.connect(inh, exc, "fixed_in_degree", weight_pa=lamina.Normal(-200, 20, high=0),
                delay_ms=lamina.Uniform(1.5, 3), in_degree=5)
    learning = net.connect(exc, exc, "fixed_in_degree", weight_pa=40.0,
                           delay_ms=lamina.Uniform(0.5, 2.0), in_degree=10)
    net.stdp(learning, lamina.Stdp(a_plus_pa=4.0, a_minus_pa=-4.5, w_max_pa=80.0))
    net.plastic = learning
    net.poisson(exc, in_degree=100, rate_hz=20.0, weight_pa=90.0)
    net.current(inh, np.linspace(300, 400, 40))
    return net, exc, inh, net.probe_spikes(exc), net.probe_spikes(inh), net.probe_state(
        inh.slice(37, 40), 0.5)


def run_on_threads(size, body):
    """``body(comm)`` on ``size`` threads, one rank each; their results in rank order."""
    comms = ThreadComm.group(size)
    results, errors = [None] * size, [None] * size

    def rank(r):
        try:
            results[r] = body(comms[r])
        except BaseException as e:  # reported below, in the test's thread
            errors[r] = e
            comms[r].shared["barrier"].abort()

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a rank hung"
    for e in errors:
        if e is not None and not isinstance(e, threading.BrokenBarrierError):
            raise e
    assert all(e is None for e in errors), errors
    return results


def records(sim, probes, net):
    """Every probe's record, and the learned weights of ``net``'s plastic projection."""
    sp_exc, sp_inh, st = probes
    return (sim.spikes(sp_exc), sim.spikes(sp_inh), sim.state(st, "v"), sim.state(st, "i_ex"),
            sim.plastic_weights(net.plastic))


def assert_same(a, b, what):
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            for u, v in zip(x, y):
                assert np.array_equal(u, v), what
        else:
            assert np.array_equal(x, y), what


@pytest.mark.parametrize("size", [2, 3])
def test_threads_as_processes_give_the_spikes_of_one(size):
    net, *_, sp_exc, sp_inh, st = network()
    one = lamina.Simulator(net, backend="cpu")
    one.run(0.25)
    want = records(one, (sp_exc, sp_inh, st), net)
    assert len(want[0][0]) > 100 and len(want[1][0]) > 20
    assert np.any(want[4] != 40.0), "the plastic weights learned"

    def body(comm):
        net, *_, a, b, s = network()
        sim = lamina.Simulator(net, backend="cpu", comm=comm)
        assert (sim.rank, sim.size) == (comm.rank, size)
        assert sim.communicator == "test_distributed.ThreadComm"
        sim.run(0.1)
        sim.run(0.15)
        return records(sim, (a, b, s), net)

    for r, got in enumerate(run_on_threads(size, body)):
        assert_same(got, want, f"rank {r} of {size}")


def test_lesions_count_everywhere_and_checkpoints_resume_per_process(tmp_path):
    net, exc, inh, sp_exc, sp_inh, st = network()
    one = lamina.Simulator(net, backend="cpu")
    one.run(0.05)
    total = one.lesion(inh, exc)
    assert total == 160 * 5
    one.run(0.1)
    want = records(one, (sp_exc, sp_inh, st), net)
    path = tmp_path / "run.npz"

    def body(comm):
        net, exc, inh, a, b, s = network()
        sim = lamina.Simulator(net, backend="cpu", comm=comm)
        sim.run(0.05)
        cut = sim.lesion(inh, exc)
        sim.checkpoint(path)
        again = lamina.Simulator(net, backend="cpu", comm=comm)
        again.load_checkpoint(path)
        again.run(0.1)
        return cut, records(again, (a, b, s), net)

    for r, (cut, got) in enumerate(run_on_threads(2, body)):
        assert cut == total, f"rank {r} counted {cut}"
        assert_same(got, want, f"rank {r} resumed")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run.rank0-of-2.npz", "run.rank1-of-2.npz"]


def test_a_communicator_without_mpi4pys_methods_is_refused():
    net, *_ = network()

    class Half:
        def Get_rank(self):
            return 0

        def Get_size(self):
            return 2

    with pytest.raises(TypeError, match="lacks allgather, Barrier"):
        lamina.Simulator(net, backend="cpu", comm=Half())

    class Wrong(ThreadComm):
        def Get_rank(self):
            return 5

    with pytest.raises(ValueError, match="rank 5 of 1"):
        lamina.Simulator(net, backend="cpu", comm=Wrong(0, {"slots": [None]}))


def test_a_failing_allgather_is_an_error_on_every_rank():
    net, *_ = network()

    class Broken(ThreadComm):
        def allgather(self, obj):
            raise RuntimeError("the network is down")

    comm = Broken(0, {"slots": [None], "barrier": threading.Barrier(1), "calls": [0]})
    with pytest.raises(lamina.LaminaError, match="allgather failed: RuntimeError: the network"):
        sim = lamina.Simulator(net, backend="cpu", comm=comm)
        sim.run(0.05)
