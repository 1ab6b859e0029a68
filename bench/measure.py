"""Run a command; write its wall time, CPU seconds, peak RSS and exit status to a JSON file.

    python bench/measure.py RESULT.json COMMAND…

A small process of its own on purpose: on Linux a child's `ru_maxrss` also counts the memory
of the process it was forked from (the high-water mark survives `exec`), so a child forked
straight from the benchmark, which holds a 100,000-target catalog, would report that. Forked
from here, the floor is this interpreter's ~10 MB. The command inherits stdin/stdout/stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    result, *command = sys.argv[1:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    measured = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "returncode": process.returncode,
    }
    Path(result).write_text(json.dumps(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
