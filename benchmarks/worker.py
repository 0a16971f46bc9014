"""A timing worker: one process of one library's environment, driven by pairs.py over stdin/stdout.

    python worker.py [--cores 0]        # pinned to those cores before anything is imported

Reads one JSON request a line and answers each with one JSON line:

- ``{"load": NAME, "factory": "module.function", "kwargs": {...}}``: imports ``module`` (from benchmarks/),
  calls ``function(**kwargs)``, which returns a no-argument callable that does a fixed amount of work and
  returns how many items (images, clips) it made; the callable is run once to warm up. Answer ``{"ok": true}``.
- ``{"time": NAME, "runs": K}``: calls it K times. Answer ``{"seconds": s, "items": n, "rss_mb": peak}``, the
  seconds up to when the process (all its threads) went idle: see ``settled``.

Anything the libraries print goes to stderr: stdout carries the answers only. An exception is answered
``{"error": "..."}`` and the worker goes on.
"""
import json
import os
import sys
import time
import traceback


def settled(window: float = 0.005, limit: float = 5.0) -> float:
    """When this process last used the CPU: waits until it is idle for ``window`` seconds.

    Work a library goes on doing after the call returned (DALI's and ImageRecordIter's prefetching, OpenMP
    threads spinning) counts in its own run, and never runs on the shared core while the other side is timed.
    """
    last_busy, cpu = time.perf_counter(), time.process_time()  # process_time: every thread of the process
    deadline = last_busy + limit
    while last_busy < deadline:
        time.sleep(window)
        now_cpu = time.process_time()
        if now_cpu - cpu < window / 10:
            return last_busy
        last_busy, cpu = time.perf_counter(), now_cpu
    return last_busy


def main() -> None:
    cores = sys.argv[sys.argv.index("--cores") + 1] if "--cores" in sys.argv else ""
    if cores:  # before numpy, OpenMP or MXNet start their threads: they size their pools from this mask
        os.sched_setaffinity(0, {int(c) for c in cores.split(",")})
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a library's prints must not corrupt the answers
    sys.stdout = sys.stderr
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import importlib
    import resource

    loaded = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if "load" in request:
                module, function = request["factory"].rsplit(".", 1)
                call = getattr(importlib.import_module(module), function)(**request.get("kwargs", {}))
                call()
                loaded[request["load"]] = call
                answer = {"ok": True}
            else:
                call = loaded[request["time"]]
                items = 0
                start = time.perf_counter()
                for _ in range(request["runs"]):
                    items += call()
                seconds = settled() - start
                usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                answer = {"seconds": seconds, "items": items, "rss_mb": usage, "children_rss_mb": children}
        except Exception as exc:  # noqa: BLE001 - the driver reports it and goes on with the other rows
            answer = {"error": f"{type(exc).__name__}: {exc}"[:400], "trace": traceback.format_exc()[-2000:]}
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
