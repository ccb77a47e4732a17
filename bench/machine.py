"""One line that says where the figures were measured: CPU, cores, memory, kernel and the software."""

import os
import platform
import shutil
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "missing"
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    words = (done.stdout or done.stderr).split()
    return words[1] if len(words) > 1 else "?"


def describe(postgres_version: str = "?", redis_version: str = "?") -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{_cpu_model()}, {cores} cores, {_memory_gib():.0f} GiB RAM, Linux {platform.release()}; "
        f"Python {platform.python_version()}, PostgreSQL {postgres_version}, Redis {redis_version}, "
        f"wrk {_version(['wrk', '--version'])}"
    )
