"""A Python that has numpy and nothing else, as on a student's machine, for running downloaded demos.

`numpy_only_python(folder)` makes a venv without pip whose site-packages holds only links to this
environment's numpy. `run_clean(python, args, cwd)` runs it isolated (`-I`: no PYTHONPATH, no user
site, the script's folder not on sys.path beyond itself) with a minimal environment and `cwd` in a
temporary folder, so nothing of this repository can be imported by accident.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy


def numpy_only_python(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    ours = Path(sysconfig.get_path("purelib"))
    numpy_dir = Path(numpy.__file__).resolve().parent
    for item in [numpy_dir, *ours.glob("numpy.libs"), *ours.glob("numpy-*.dist-info")]:
        (Path(purelib) / item.name).symlink_to(item, target_is_directory=item.is_dir())
    return python


def run_clean(python: Path, args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([str(python), "-I", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
