"""The sandbox a worker runs the user's code in: Debian's bubblewrap plus resource limits.

What it gives (each checked by tests/test_sandbox.py from pasted user code):
- an unprivileged user: as root, bwrap builds the mounts and ``setpriv`` drops to a uid of the
  worker's own (no capabilities, no new privileges) before Python starts; as another user,
  bwrap maps that user into a user namespace;
- a read-only view of the system (/usr, the dynamic loader's files from /etc), of the Python
  installation and the virtual environment, and of this package's own source; nothing else of
  the repository, the data folder (the store), the settings file, ``secrets.toml`` or the
  server's home (except a Python installed under it, read-only);
- a private writable /tmp and the job's own folder;
- no network at all (a new, empty network namespace; not even loopback);
- its own PID namespace: when the worker exits or is killed, every process it started dies;
- limits: processes (RLIMIT_NPROC, per worker uid), file size, open files, no core dumps.
Memory stays the executor's RSS watch: RLIMIT_AS breaks TensorFlow.

What it does not give: a seccomp filter (the kernel's whole syscall surface is reachable), and
protection from kernel bugs. It is a hardening layer for a team's colleagues, not a boundary
for hostile strangers.
"""

from __future__ import annotations

import functools
import glob
import os
import random
import resource
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import SandboxUnavailable

# Environment switch: "bwrap" (required; fail without it), "auto" (bwrap where it works, else
# none with a warning), "off".
SANDBOX_ENV = "INSPECTOR_SANDBOX"
# Processes and threads one worker may have (TensorFlow starts about 2x cores threads; a fork
# bomb stops here with EAGAIN).
MAX_PROCESSES = 1024
# Largest file the user's code may write (the job log included).
MAX_FILE_BYTES = 1 << 30
MAX_OPEN_FILES = 4096
# Worker uids are drawn from here, one per worker, so each has its own process limit.
UID_RANGE = (200_000, 2_000_000)
# What of /etc a Python program needs: the loader's cache, users, time zone, alternatives
# (/usr/bin links through /etc/alternatives). The rest of /etc stays out.
ETC_KEEP = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
            "nsswitch.conf", "alternatives", "ssl")
_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sandbox:
    """How workers are started: in bubblewrap, or plainly (with the reason)."""

    # "bwrap" or "none".
    kind: str
    # Why there is no sandbox (for the page and the CLI's warning); empty when there is one.
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.kind == "bwrap"


def set_limits() -> None:
    """Runs in the child before exec (``preexec_fn``): limits the worker and everything it
    starts inherits."""
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _parents(path: Path) -> list[str]:
    """Directories to create (0755) inside the sandbox so ``path`` can be bound below them."""
    args: list[str] = []
    for parent in reversed(path.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _ro(path: Path | str) -> list[str]:
    path = Path(path)
    return [*_parents(path), "--ro-bind", str(path), str(path)] if path.exists() else []


def _gpu_devices() -> list[str]:
    """NVIDIA device nodes, bound through where they exist (untested here: no GPU)."""
    args: list[str] = []
    for device in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", device, device]
    if args:
        args += ["--ro-bind", "/sys", "/sys"]
    return args


def command(worker: Sequence[str], *, job_dir: Path, writable: Sequence[Path] = (),
            hidden: Sequence[Path] = (), uid: int | None = None,
            readable: Sequence[Path] = ()) -> list[str]:
    """The worker command wrapped in bwrap: ``job_dir`` (and ``writable`` files) writable at
    their own paths, ``hidden`` paths covered even where a read-only bind would show them,
    ``readable`` folders (another TensorFlow's environment) read-only, even inside a hidden
    one."""
    python_home = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix)
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/sbin", "/sbin", "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/etc"]
    for name in ETC_KEEP:
        args += _ro(Path("/etc") / name)
    args += _gpu_devices()
    for path in (python_home, venv, _PACKAGE):
        args += _ro(path)
    args += [*_parents(job_dir), "--bind", str(job_dir), str(job_dir)]
    for path in writable:
        args += [*_parents(path), "--bind", str(path), str(path)]
    for path in hidden:  # e.g. a data folder inside the venv: cover it
        if path.exists():
            args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null",
                                                                    str(path)]
    for path in readable:
        args += _ro(path)
    args += ["--chdir", str(job_dir), "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
             "--setenv", "INSPECTOR_IN_SANDBOX", "bwrap"]
    if os.geteuid() == 0:
        assert uid is not None
        return [*args, "--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", *worker]
    return [*args, "--unshare-user", "--", *worker]


def worker_uid() -> int:
    """A uid for one worker: its own process count, no files anywhere but its job folder."""
    return random.randint(*UID_RANGE)


def detect(mode: str | None = None) -> Sandbox:
    """Whether workers can run in bwrap here (a trivial sandbox is started to find out, once
    per process and setting).

    Raises SandboxUnavailable when ``mode`` (default: $INSPECTOR_SANDBOX, else "auto") is
    "bwrap" and it cannot.
    """
    return _detect((mode or os.environ.get(SANDBOX_ENV) or "auto").lower())


@functools.cache
def _detect(mode: str) -> Sandbox:
    if mode == "off":
        return Sandbox("none", f"turned off ({SANDBOX_ENV}=off)")
    reason = ""
    if shutil.which("bwrap") is None:
        reason = "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    elif os.geteuid() == 0 and shutil.which("setpriv") is None:
        reason = "setpriv (util-linux) is missing"
    else:
        probe = Path(os.environ.get("TMPDIR", "/tmp"))
        # -I -S: the interpreter without its site packages (25 ms, against 50 with them: the
        # CLI waits for this before it starts its worker).
        done = subprocess.run(command([sys.executable, "-I", "-S", "-c", "pass"], job_dir=probe,
                                      uid=worker_uid()),
                              capture_output=True, text=True, timeout=60, preexec_fn=set_limits)
        if done.returncode != 0:
            reason = f"bubblewrap could not start a sandbox: {done.stderr.strip()[:300]}"
    if not reason:
        return Sandbox("bwrap")
    if mode == "bwrap":
        raise SandboxUnavailable(reason)
    return Sandbox("none", reason)
