"""The sandbox, tested from pasted user code run by a real worker in bubblewrap: secrets stay
unreadable, the network unreachable, the system unwritable, fork bombs and stray children end."""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest

from inspector.hosting import sandbox
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.jobs.executor import Limits
from inspector.jobs.local import LocalExecutor

pytestmark = pytest.mark.worker

if sandbox.detect("auto").kind != "bwrap":
    pytest.skip(f"no sandbox here: {sandbox.detect('auto').reason}", allow_module_level=True)


@pytest.fixture(scope="module")
def secrets(tmp_path_factory):
    """A store file, a settings file and a file in the server's home, with known content."""
    data = tmp_path_factory.mktemp("data")
    store = data / "runs.db"
    store.write_text("STORE-CONTENT-7f3a")
    config = tmp_path_factory.mktemp("config") / "inspector.toml"
    config.write_text("SETTINGS-CONTENT-9c1e")
    home = Path.home() / f".inspector-sandbox-test-{os.getpid()}"
    home.write_text("HOME-CONTENT-44b2")
    yield {"store": store, "config": config, "home": home}
    home.unlink()


@pytest.fixture(scope="module")
def pool(secrets):
    with LocalExecutor(workers=1, sandbox_mode="bwrap",
                       hidden=(secrets["store"].parent, secrets["config"])) as executor:
        yield executor


def run(pool, body: str, timeout_s: float = 60.0):
    code = "import tensorflow as tf\n" + textwrap.dedent(body) + "\n\ndef f(x):\n    return x\n"
    request = prepare(Source(code, "pasted.py"), "f", ["float32[4]"], ["eager"], runs=1,
                      warmup=0)
    return pool.submit(request, Limits(timeout_s=timeout_s)).result(timeout=timeout_s + 60)


@pytest.mark.parametrize("which", ["store", "config", "home"])
def test_secrets_are_not_readable(pool, secrets, which):
    path = secrets[which]
    report = run(pool, f"print(open({str(path)!r}).read())")
    assert report.error is not None and report.error.type == "SandboxDenied"
    assert str(path) in report.error.message
    text = report.to_json()
    for content in ("STORE-CONTENT", "SETTINGS-CONTENT", "HOME-CONTENT"):
        assert content not in text


def test_the_network_is_unreachable_even_on_loopback(pool):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                accepted.append(listener.accept())
            except TimeoutError:
                continue

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    report = run(pool, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 5)")
    watcher.join()
    listener.close()
    assert report.error is not None and "Connection refused" in report.error.message
    assert accepted == []


def test_a_read_while_tracing_is_said_to_be_the_sandbox_as_in_eager(pool, secrets):
    """Found by a walk: inside tf.function, AutoGraph re-raises the OSError as its own
    StagingError, which was reported as a plain UserCodeError in every traced mode."""
    path = secrets["store"]
    code = f"import tensorflow as tf\n\ndef f(x):\n    open({str(path)!r}).read()\n    return x\n"
    request = prepare(Source(code, "pasted.py"), "f", ["float32[4]"], ["eager", "spec"],
                      runs=1, warmup=0)
    report = pool.submit(request, Limits(timeout_s=60)).result(timeout=120)
    errors = {r.mode: r.error for r in report.results}
    assert {m: e.type for m, e in errors.items() if e} == {"eager": "SandboxDenied",
                                                          "spec": "SandboxDenied"}
    assert str(path) in errors["spec"].message and errors["eager"].line == 4


def test_the_job_runs_at_the_servers_priority_not_the_startup_one(pool):
    """A worker imports TensorFlow niced and must go back before its job: every thread of the
    job (TensorFlow's pools included) at this process's niceness, inside the sandbox too (the
    pool does it: a worker without capabilities cannot; so can a root server only)."""
    if os.geteuid() != 0:
        pytest.skip("only a root server may lower a worker's niceness (CAP_SYS_NICE)")
    report = run(pool, """
        import os
        tf.constant(1.0) + 1.0  # TensorFlow's thread pools are up
        print("niceness", sorted({os.getpriority(os.PRIO_PROCESS, int(task))
                                  for task in os.listdir("/proc/self/task")}))
    """)
    assert report.error is None, report.error
    assert f"niceness [{os.getpriority(os.PRIO_PROCESS, 0)}]" in report.stdout, report.stdout


def test_writing_outside_the_temp_folder_fails(pool, tmp_path):
    target = Path("/usr/inspector-sandbox-test")
    report = run(pool, f"open({str(target)!r}, 'w').write('x')")
    assert report.error is not None and report.error.type == "SandboxDenied"
    assert not target.exists()
    report = run(pool, "open('/tmp/scratch.txt', 'w').write('fine')")  # private temp: allowed
    assert report.error is None


def _sandbox_processes(marker: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if marker in line]


def test_a_fork_bomb_ends_in_a_typed_error_and_the_next_job_runs(pool):
    started = time.monotonic()
    report = run(pool, "import os\nwhile True:\n    os.fork()", timeout_s=60)
    assert report.error is not None
    assert report.error.type in ("UserCodeError", "ProcessLimit", "Timeout"), report.error
    assert time.monotonic() - started < 90
    time.sleep(1)
    assert not _sandbox_processes("pasted.py")
    assert run(pool, "x = 1").error is None


def test_a_child_left_running_is_gone_when_the_job_ends(pool):
    report = run(pool, "import subprocess\n"
                       "subprocess.Popen(['sleep', '987654'], start_new_session=True)")
    assert report.error is None
    time.sleep(1)
    assert not _sandbox_processes("sleep 987654")


def test_the_sandbox_is_probed_once_whatever_its_setting_is_called(monkeypatch):
    """The CLI asked ``detect()`` and its pool ``detect(None)``: two probes (~60 ms each)
    before the worker could start."""
    probes = []
    real = subprocess.run
    monkeypatch.setattr(sandbox.subprocess, "run",
                        lambda *a, **k: probes.append(a) or real(*a, **k))
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    sandbox._detect.cache_clear()
    try:
        kinds = {sandbox.detect().kind, sandbox.detect(None).kind, sandbox.detect("auto").kind,
                 sandbox.detect("AUTO").kind}
    finally:
        sandbox._detect.cache_clear()
    assert kinds == {"bwrap"} and len(probes) == 1
