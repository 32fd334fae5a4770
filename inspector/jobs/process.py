"""One started worker process: its control pipe, its log, its memory, and killing it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from inspector.errors import WorkerCrashed
from inspector.hosting import sandbox
from inspector.inputs import models
from inspector.inputs.request import InspectRequest
from inspector.jobs import protocol

# How often the worker's process tree is listed again (its memory is read every poll).
TREE_EVERY_S = 0.5
# The repository root: workers run ``python -m inspector.jobs.worker`` from here.
_ROOT = Path(__file__).resolve().parents[2]


# The most reads of the pipe after a worker's last event (1 MB each).
AFTER_END_READS = 64


class WorkerProcess:
    """A ``python -m inspector.jobs.worker`` process in its own process group."""

    def __init__(self, python: str, env: dict[str, str], workdir: Path,
                 sandboxed: bool = False, writable: tuple[Path, ...] = (),
                 hidden: tuple[Path, ...] = (), readable: tuple[Path, ...] = ()):
        self.workdir = Path(tempfile.mkdtemp(prefix="job-", dir=workdir))
        self.log_path = self.workdir / "worker.log"
        self._log = open(self.log_path, "wb")
        command = [python, "-m", "inspector.jobs.worker"]
        self.sandboxed = sandboxed
        if sandboxed:
            uid = sandbox.worker_uid()
            if os.geteuid() == 0:
                os.chown(self.workdir, uid, uid)  # its only writable folder besides /tmp
            command = sandbox.command(command, job_dir=self.workdir, writable=writable,
                                      hidden=hidden, uid=uid, readable=readable)
        else:  # in the sandbox, bwrap points both at its private /tmp
            env = {**env, "HOME": str(self.workdir), "TMPDIR": str(self.workdir)}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env,
            cwd=str(_ROOT), start_new_session=True,  # its own process group, killed as one
            preexec_fn=sandbox.set_limits if sandboxed else None)
        # The worker's "ready" event (pid, tensorflow, devices), once it arrived.
        self.ready: dict[str, Any] | None = None
        self._buffer = bytearray()  # the line being received (appended to, never copied)
        self.bytes_read = 0  # everything read from the control pipe, for the report size cap
        self._tree_cache: list[psutil.Process] = []
        self._tree_at = -TREE_EVERY_S

    def read_events(self, timeout: float) -> list[dict[str, Any]] | None:
        """Events that arrived within ``timeout``; None once the pipe is closed.

        Raises WorkerCrashed for a line that is not the protocol (the user's code shares the
        worker's process and can write to the pipe).
        """
        assert self.process.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.process.stdout, selectors.EVENT_READ)
                if not selector.select(timeout):
                    return []
        except (OSError, ValueError):
            return None
        try:
            chunk = os.read(self.process.stdout.fileno(), 1 << 20)
        except (OSError, ValueError):  # closed by kill() from another thread
            return None
        if not chunk:
            return None
        self.bytes_read += len(chunk)
        self._buffer += chunk
        if b"\n" not in chunk:  # split only when a line ended: a hostile endless line took
            return []          # the server's CPU for the whole time limit when re-split per read
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        return [protocol.parse(bytes(line)) for line in lines if line.strip()]

    def stop_after_end(self) -> list[dict[str, Any]]:
        """Kill the worker once it sent its last event; the events it wrote after it.

        Its process group is killed rather than awaited: the kernel takes 40-60 ms to free a
        TensorFlow process before the pipe's end closes, and a report has no reason to wait
        for that. What the worker wrote before the kill is in the pipe and read here (the
        caller treats any event as the user's code writing to the pipe); a write in the
        moment between its last event and the kill can no longer change the report, which the
        caller has already parsed."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # Reads what is there now, up to an event (the caller's WorkerCrashed) and at most
        # AFTER_END_READS reads: a process outside the group (its own session, the pipe passed
        # to it) may keep writing, and this must not read for ever.
        for _ in range(AFTER_END_READS):
            events = self.read_events(0)
            if events:
                return events
            if events is None or not self._buffer:
                break
        if self._buffer.strip():
            raise WorkerCrashed(f"{protocol.NOT_PROTOCOL}: a partial line after the end")
        return []

    def send_job(self, message: bytes) -> None:
        """Write the job's one line and close stdin; the job's log replaces the start-up log."""
        assert self.process.stdin is not None
        self.process.stdin.write(message)
        self.process.stdin.close()
        self.log_path = self.workdir / "job.log"

    def restore_priority(self) -> None:
        """Every thread of the worker's tree back to this process's niceness, once it is ready.
        A worker imports TensorFlow niced (worker.py) and, in the sandbox, without the right
        to undo it: every sandboxed job ran at niceness 10, behind the page and the browser.
        Needs CAP_SYS_NICE here (a root server); without it the worker stays low."""
        base = os.getpriority(os.PRIO_PROCESS, 0)
        with contextlib.suppress(PermissionError, psutil.Error):
            for process in self._tree():
                for thread in process.threads():
                    with contextlib.suppress(ProcessLookupError):
                        os.setpriority(os.PRIO_PROCESS, thread.id, base)

    def usage(self) -> tuple[float, int]:
        """Resident memory (MB) of the whole process tree (children the user's code started
        too) and how many processes it holds."""
        tree = self._tree()
        return _sum_mb(tree, lambda p: p.memory_info().rss), len(tree)

    def proportional_mb(self) -> float:
        """The tree's memory with pages shared by forked processes counted once (PSS); about
        20 ms per TensorFlow process to read, so only to confirm a breach the RSS sum saw."""
        return _sum_mb(self._tree(), lambda p: p.memory_full_info().pss)

    def _tree(self) -> list[psutil.Process]:
        """The process tree, listed anew at most every TREE_EVERY_S: listing scans every
        process of the machine (psutil reads each /proc/<pid>/stat), and at every 50 ms poll
        that was 43% of the dashboard server's CPU during a ResNet50 job (py-spy). Between
        listings the known processes' memory is read again, which is cheap."""
        now = time.monotonic()
        if now - self._tree_at < TREE_EVERY_S:
            return self._tree_cache
        try:
            root = psutil.Process(self.process.pid)
            self._tree_cache = [root, *root.children(recursive=True)]
        except psutil.Error:
            self._tree_cache = []
        self._tree_at = now
        return self._tree_cache

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()

    def read_log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def crash_error(self, when: str) -> WorkerCrashed:
        """Why the worker died, from its exit status and the last lines it logged."""
        code = self.process.wait()
        if self.sandboxed and code > 128:  # bwrap exits 128+N when the worker dies of signal N
            code = 128 - code
        how = _signal_name(code) if code < 0 else f"exit code {code}"
        # CUDA's start-up complaints on a CPU-only machine say nothing about the crash.
        tail = [t for t in self.read_log().strip().splitlines() if "cuda" not in t.lower()][-3:]
        last = f"; last log lines: {' | '.join(tail)}" if tail else ""
        return WorkerCrashed(f"the worker died {when} ({how}){last}")


def place_model(request: InspectRequest, job_dir: Path) -> InspectRequest:
    """The request as a worker in ``job_dir`` gets it: the model is written into the job's
    folder and named there as ``placed``, instead of crossing the pipe as base64 in JSON. A
    model read from a file or folder on this machine is copied (by the kernel: a few ms for
    20 MB), unless its files changed since they were read (their stamp differs: its bytes go
    instead); an upload's bytes are written as its file (an archive is unpacked by the
    sandboxed worker, never here). The worker is never told the server's path."""
    model = request.source.model
    if not model or not (model.get("path") or model.get("data")):
        return request
    kept = models.unlocated(model)
    unplaced = dataclasses.replace(request, source=dataclasses.replace(request.source,
                                                                       model=kept))
    if model.get("path") and model.get("stamp") is None:
        return unplaced
    target = _copy_model(model, job_dir / "model-in")
    if target is None:
        return unplaced
    source = dataclasses.replace(request.source,
                                 model={**kept, "data": None, "placed": str(target)})
    return dataclasses.replace(request, source=source)


def _copy_model(model: dict[str, Any], folder: Path) -> Path | None:
    """The model's copy in ``folder`` (made here), owned as the job's folder is so that the
    worker can unpack beside it; None when its files changed since they were read or it
    could not be written (nothing is left in ``folder`` then)."""
    path = Path(model["path"]) if model.get("path") else None
    target = folder / (models.SAVED_FOLDER if path is not None and path.is_dir()
                       else Path(model["name"]).name)
    try:
        if path is not None and models.stamp(path) != model["stamp"]:
            return None
        folder.mkdir()
    except OSError:
        return None
    try:
        if path is None:
            target.write_bytes(models.bytes_of(model))
        elif path.is_dir():
            shutil.copytree(path, target, symlinks=True, copy_function=shutil.copyfile)
        else:
            shutil.copyfile(path, target)
        owner = folder.parent.stat()  # the worker's own copy: its uid's (sandboxed under
        for where, _, files in os.walk(folder):  # root), as is the job folder
            for item in (where, *(os.path.join(where, n) for n in files)):
                if os.geteuid() == 0:
                    os.chown(item, owner.st_uid, owner.st_gid)
                os.chmod(item, 0o755 if item == where else 0o644)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return target


def _sum_mb(tree: list[psutil.Process], measure: Callable[[psutil.Process], int]) -> float:
    """``measure`` summed over the processes still there, in MB."""
    total = 0
    for process in tree:
        try:
            total += measure(process)
        except psutil.Error:  # exited since the listing
            pass
    return total / 2**20


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
