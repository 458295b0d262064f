#!/usr/bin/env python
"""Runs Nengo's own test suite against lamina.nengo.Simulator and prints the counts.

    python python/tests/run_nengo_suite.py [--min-passed N] [--min-pass-rate R] [-- PYTEST_ARGS]

Nengo ships its tests with the package and a pytest plugin (``pytest_nengo``) that runs them
against another backend: ``nengo_simulator`` names the simulator class, ``nengo_neurons`` the
neuron types under test (lamina's four), and ``nengo_test_unsupported`` the tests the backend
does not run, each with its reason (``nengo_unsupported.txt`` beside this file: one test id
per line, no wildcards, and the missing feature). Tests that do not use a simulator are
deselected by the plugin, as for every backend other than Nengo's own. Test ids are relative to
the folder that holds the ``nengo`` package, so the ``rng`` and ``seed`` fixtures (seeded from
the id) draw the same numbers on every machine.

Prints passed, failed, skipped (skips of Nengo's own, e.g. slow tests or a missing SciPy) and
unsupported, the pass rate over the tests that ran, and the pass rate counting unsupported
tests as run. Exits 0 when the interpreter survived every test and the floors hold, 1 when a
floor does not hold, 2 when pytest did not finish (a crash).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
NEURONS = ["nengo.LIF", "nengo.LIFRate", "nengo.RectifiedLinear", "nengo.SpikingRectifiedLinear"]


def read_unsupported(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            test, reason = line.split("\t", 1)
            if "*" in test or "?" in test or '"' in test or '"' in reason:
                raise SystemExit(f"{path}: entry {test!r} must name one test, without quotes")
            entries.append((test, reason))
    return entries


def write_ini(path, unsupported):
    lines = ["[pytest]", "nengo_simulator = lamina.nengo.Simulator", "nengo_neurons ="]
    lines += [f"    {n}" for n in NEURONS]
    lines.append("nengo_test_unsupported =")
    for test, reason in unsupported:
        lines.append(f'    "{test}"')
        lines.append(f'        "{reason}"')
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def count(junit, reasons):
    counts = {"passed": 0, "failed": 0, "skipped": 0, "unsupported": 0}
    failed = []
    for tc in ET.parse(junit).getroot().iter("testcase"):
        bad = tc.find("failure")
        if bad is None:
            bad = tc.find("error")
        skip = tc.find("skipped")
        name = f"{tc.get('classname')}::{tc.get('name')}"
        if bad is not None:
            counts["failed"] += 1
            failed.append((name, (bad.get("message") or "").split("\n")[0][:160]))
        elif skip is not None:
            msg = skip.get("message") or ""
            hit = any(r in msg for r in reasons)
            counts["unsupported" if hit else "skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min-passed", type=int, default=0, help="fail below this many passes")
    ap.add_argument("--min-pass-rate", type=float, default=0.0,
                    help="fail below this rate of passes among tests run or unsupported")
    ap.add_argument("--junit", default=None, help="keep the JUnit XML report here")
    ap.add_argument("--all", action="store_true",
                    help="run the unsupported tests too (to review nengo_unsupported.txt)")
    ap.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = ap.parse_args()

    import nengo  # noqa: F401  (fails early, with a clear message, when Nengo is missing)

    unsupported = read_unsupported(os.path.join(HERE, "nengo_unsupported.txt"))
    site = os.path.dirname(os.path.dirname(os.path.abspath(nengo.__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "pytest.ini")
        junit = args.junit or os.path.join(tmp, "nengo-suite.xml")
        write_ini(ini, [] if args.all else unsupported)
        env = dict(os.environ, MPLBACKEND="Agg")
        cmd = [sys.executable, "-m", "pytest", "--pyargs", "nengo", "-c", ini, "--rootdir",
               site, "-p", "no:cacheprovider", "-q", "-rf", f"--junitxml={junit}",
               *args.pytest_args]
        proc = subprocess.run(cmd, env=env, cwd=tmp)
        if proc.returncode not in (0, 1) or not os.path.exists(junit):
            print(f"pytest did not finish (exit status {proc.returncode}): a crash?")
            return 2
        counts, failed = count(junit, {r for _, r in unsupported})
    ran = counts["passed"] + counts["failed"]
    rate = counts["passed"] / ran if ran else 0.0
    rate_all = counts["passed"] / (ran + counts["unsupported"]) if ran else 0.0
    print()
    print("Nengo test suite against lamina.nengo.Simulator (neurons: "
          + ", ".join(n.split(".")[-1] for n in NEURONS) + ")")
    for k in ("passed", "failed", "skipped", "unsupported"):
        print(f"  {k:12s} {counts[k]}")
    print(f"  pass rate    {rate:.1%} of {ran} tests run; "
          f"{rate_all:.1%} counting the {counts['unsupported']} unsupported as run")
    for name, msg in failed:
        print(f"  FAILED {name}: {msg}")
    ok = counts["passed"] >= args.min_passed and rate_all >= args.min_pass_rate
    if not ok:
        print(f"below the floor: at least {args.min_passed} passes and a pass rate of "
              f"{args.min_pass_rate:.0%} (counting unsupported) are required")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
