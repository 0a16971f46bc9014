"""Workloads of known cost for the benchmark's own tests (worker.py loads them like benchmarks/ modules')."""
import threading
import time


def busy(seconds: float, after: float, repeat: int = 1):
    """A call that keeps the CPU busy ``seconds``, then leaves a thread busy ``after`` seconds more."""
    def spin(duration):
        end = time.perf_counter() + duration
        while time.perf_counter() < end:
            pass

    def run():
        for _ in range(repeat):
            spin(seconds)
        if after:
            threading.Thread(target=spin, args=(after,), daemon=True).start()
        return 1

    return run


def fails():
    raise ValueError("this workload cannot run here")
