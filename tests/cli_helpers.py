"""Running the installed ``augplug`` command as a user does (no MXNet needed to import this)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent))


def run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    return subprocess.run([AUGPLUG, *args], capture_output=True, text=True, timeout=600, env=env)
