"""``augplug launch``: MXNet's parameter-server job (scheduler, servers, workers) on this machine.

Every process gets the DMLC_* environment (role, scheduler address and port, counts).
Scheduler and servers are ``python -c "import mxnet"`` (MXNet starts its server loop on
import when DMLC_ROLE is ``server`` or ``scheduler``); workers run the given command,
which should train with ``--kvstore dist_sync`` (or another ``dist_*`` store).

Across machines, start the same roles by hand with DMLC_PS_ROOT_URI set to the
scheduler's address, DMLC_PS_ROOT_PORT to a free port, DMLC_NUM_WORKER and
DMLC_NUM_SERVER to the counts, and DMLC_ROLE to each process's role.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from typing import Sequence

from .config import ConfigError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _relay(proc: subprocess.Popen, prefix: str, stream) -> None:
    for line in proc.stdout:  # type: ignore[union-attr]
        stream.write(f"[{prefix}] {line}")
        stream.flush()


def launch(command: Sequence[str], workers: int, servers: int = 1, host: str = "127.0.0.1",
           port: int | None = None, timeout: float | None = None, stream=None) -> int:
    """Run ``command`` as ``workers`` workers with ``servers`` servers and a scheduler; return the exit code.

    The result is 0 when every worker exited 0, else the first non-zero worker exit code.
    """
    if workers < 1 or servers < 1:
        raise ConfigError(f"launch needs at least one worker and one server, got {workers} and {servers}")
    if not command:
        raise ConfigError("launch needs the worker command after --")
    stream = stream or sys.stdout
    env = {**os.environ, "DMLC_PS_ROOT_URI": host, "DMLC_PS_ROOT_PORT": str(port or free_port()),
           "DMLC_NUM_WORKER": str(workers), "DMLC_NUM_SERVER": str(servers)}
    support = [("scheduler", [sys.executable, "-c", "import mxnet"])]
    support += [(f"server {i}", [sys.executable, "-c", "import mxnet"]) for i in range(servers)]
    procs: list[tuple[str, subprocess.Popen]] = []
    for name, cmd in support + [(f"worker {i}", list(command)) for i in range(workers)]:
        role = name.split()[0]
        proc = subprocess.Popen(cmd, env={**env, "DMLC_ROLE": role}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=_relay, args=(proc, name, stream), daemon=True).start()
        procs.append((name, proc))
    worker_procs = [p for name, p in procs if name.startswith("worker")]
    deadline = None if timeout is None else time.time() + timeout
    code = 0
    try:
        for proc in worker_procs:
            remaining = None if deadline is None else max(deadline - time.time(), 0.1)
            rc = proc.wait(timeout=remaining)
            code = code or rc
    except subprocess.TimeoutExpired:
        code = 124
        stream.write(f"launch: workers still running after {timeout} s; stopping the job\n")
    finally:
        for _name, proc in procs:  # servers and scheduler end with the workers; make sure of it
            try:
                proc.wait(timeout=20 if code == 0 else 1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return code
