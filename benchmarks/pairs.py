"""Ratios that hold when rerun: the two sides of a comparison timed alternately, A B A B, in one window.

A side is a workload (a factory in one of the benchmark modules, see worker.py) in a worker process of the
library's own environment, pinned to the cores the comparison names. Timing the sides one after the other in
separate runs makes every ratio depend on what else the machine did meanwhile; timed in alternation, both
sides of a pair see the same load, and the median of the pair ratios with its spread is what is reported.

    from pairs import Side, Workers, alternate
    with Workers() as workers:
        result = alternate(workers, Side("ours", "anchors.workload", {...}), Side("albumentations", ...))
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PYTHONS = {  # the environment each library's side runs in
    "ours": sys.executable, "mxnet": sys.executable, "gluoncv": sys.executable, "adapters": sys.executable,
    "albumentations": str(ROOT / ".bench" / "albumentations" / "bin" / "python"),
    "imgaug": str(ROOT / ".bench" / "imgaug" / "bin" / "python"),
    "dali": str(ROOT / ".bench" / "dali" / "bin" / "python"),
}
ONE_CORE, TWO_CORES = (0,), (0, 1)


@dataclass
class Side:
    """One side of a comparison: ``factory(**kwargs)`` (``module.function`` in benchmarks/) run in the
    process of ``library`` pinned to ``cores``."""

    library: str
    factory: str
    kwargs: dict = field(default_factory=dict)
    cores: tuple = ONE_CORE

    @property
    def name(self) -> str:
        return f"{self.factory}:{json.dumps(self.kwargs, sort_keys=True)}"


class WorkerError(RuntimeError):
    pass


class Worker:
    """A worker.py process of one library's environment, pinned to ``cores``."""

    def __init__(self, library: str, cores: tuple, log: Path | None = None):
        python = PYTHONS[library]
        if not Path(python).exists():
            raise WorkerError(f"no environment at {python} (make bench creates it)")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
        self.log = log
        stderr = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen([python, str(HERE / "worker.py"), "--cores", ",".join(map(str, cores))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                     cwd=ROOT, env=env)
        self.loaded: set = set()

    def ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"the worker ended (exit {self.proc.wait()}); its log: {self.log}")
        answer = json.loads(line)
        if "error" in answer:
            raise WorkerError(answer["error"])
        return answer

    def load(self, side: Side) -> None:
        if side.name not in self.loaded:
            self.ask({"load": side.name, "factory": side.factory, "kwargs": side.kwargs})
            self.loaded.add(side.name)

    def time(self, side: Side, runs: int) -> dict:
        return self.ask({"time": side.name, "runs": runs})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Workers:
    """The worker processes of a run, one per (library, cores), started when first needed."""

    def __init__(self, log_dir: Path | None = None):
        self.log_dir = log_dir
        if log_dir:
            log_dir.mkdir(parents=True, exist_ok=True)
        self.workers: dict = {}

    def __call__(self, side: Side) -> Worker:
        key = (side.library, side.cores)
        if key not in self.workers:
            log = self.log_dir / f"worker-{side.library}-{'-'.join(map(str, side.cores))}.log" if self.log_dir else None
            self.workers[key] = Worker(side.library, side.cores, log)
        worker = self.workers[key]
        worker.load(side)
        return worker

    def close(self, library: str | None = None) -> None:
        for key in [k for k in self.workers if library in (None, k[0])]:
            self.workers.pop(key).close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def call_time(worker: Worker, side: Side) -> float:
    """Seconds one call of the side's workload takes (timed after the warm-up)."""
    return max(worker.time(side, 1)["seconds"], 1e-6)


def alternate(workers: Workers, a: Side, b: Side, pairs: int = 9, seconds: float = 0.4, rounds: int = 4) -> dict:
    """Time ``a`` and ``b`` in ``pairs`` pairs, each side about ``seconds`` a pair.

    A pair is ``rounds`` short runs of each side in turn (A B A B ..., the next pair B A B A ...), each about
    ``seconds / rounds`` (a workload's call is the shortest run): load that comes and goes within a second
    falls on both sides alike. A pair's ratio is side A's images per second over its rounds against side B's.
    Returns the median rate of each side, the median of the pair ratios ``rate(a) / rate(b)``, their lowest
    and highest, the number of pairs and every pair's ratio; or ``{"error": ...}`` if a side cannot run here.
    """
    try:
        wa, wb = workers(a), workers(b)
        once_a, once_b = call_time(wa, a), call_time(wb, b)
        rounds = max(1, min(rounds, int(seconds / max(once_a, once_b))))  # a side whose one call is long: fewer
        sides = [(a, wa, max(1, round(seconds / rounds / once_a)), []), (b, wb, max(1, round(seconds / rounds / once_b)), [])]
        ratios, rss = [], [None, None]
        for i in range(pairs):
            totals = [[0.0, 0], [0.0, 0]]  # seconds, items of each side in this pair
            for r in range(rounds):
                for k in ((0, 1) if (i + r) % 2 == 0 else (1, 0)):
                    side, worker, runs, _ = sides[k]
                    answer = worker.time(side, runs)
                    totals[k][0] += answer["seconds"]
                    totals[k][1] += answer["items"]
                    rss[k] = answer["rss_mb"], answer["children_rss_mb"]
            for k in (0, 1):
                sides[k][3].append(totals[k][1] / totals[k][0])
            ratios.append(sides[0][3][-1] / sides[1][3][-1])
    except WorkerError as exc:
        return {"error": str(exc)}
    return {"a": statistics.median(sides[0][3]), "b": statistics.median(sides[1][3]), "ratio": statistics.median(ratios),
            "low": min(ratios), "high": max(ratios), "pairs": pairs, "ratios": ratios, "rss_a": rss[0], "rss_b": rss[1]}
