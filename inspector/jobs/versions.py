"""TensorFlow versions the workers can run: the server's own, plus environments added with
``versions add`` (a virtual environment each, under the data folder, holding TensorFlow and
what it pulls in). No TensorFlow is imported here: versions are read from package metadata.

A worker of an added version runs that environment's Python with this checkout's source on
its ``PYTHONPATH`` (read-only in the sandbox, as the server's own environment is), so every
version runs the same inspector code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import UsageError, VersionError

# Where added environments live (default: the data folder's "versions").
VERSIONS_ENV = "INSPECTOR_VERSIONS"
# The file an environment holds once complete: a half-made one is never listed.
READY_FILE = "inspector-version.json"
# The oldest and newest minor versions this code is tested against (README: Several versions).
OLDEST_MINOR, NEWEST_MINOR = 15, 21
_SPEC = re.compile(r"^2\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")
# The repository root (this checkout's source, put on an added environment's PYTHONPATH).
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Environment:
    """One TensorFlow a worker can run."""

    # TensorFlow's own version string, e.g. "2.20.0".
    version: str
    # The environment's folder (for the server's own: its sys.prefix).
    path: Path
    # Whether this is the server's own environment.
    default: bool = False
    # Keras's version in it (2.x ships with TensorFlow 2.15, 3.x after).
    keras: str | None = None
    # Its size on disk, in MB (measured when it was added; None for the default).
    size_mb: float | None = None

    @property
    def python(self) -> str:
        return sys.executable if self.default else str(self.path / "bin" / "python")

    def worker_env(self) -> dict[str, str]:
        """What a worker of this environment needs beyond the pool's own variables."""
        return {} if self.default else {"PYTHONPATH": str(ROOT)}


def folder() -> Path:
    configured = os.environ.get(VERSIONS_ENV)
    if configured:
        return Path(configured)
    from inspector.store import data_dir

    return data_dir() / "versions"


def _installed_version(package: str) -> str | None:
    import importlib.metadata  # 20 ms: not on the CLI's way to its worker unless asked

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def default() -> Environment:
    """The server's own TensorFlow (the one this package was installed with)."""
    version = _installed_version("tensorflow") or _installed_version("tensorflow-cpu")
    if version is None:
        raise VersionError("TensorFlow is not installed in this environment; run make setup")
    return Environment(version, Path(sys.prefix), default=True, keras=_installed_version("keras"))


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def fingerprint() -> tuple[object, ...]:
    """What changes when ``installed()`` would: an environment added or removed (its ready
    file), a package installed into this one. A few stat calls, to key a cache of
    ``installed()``, whose package metadata read takes 16-70 ms."""
    root = folder()
    ready = (tuple(sorted((path.name, (path / READY_FILE).stat().st_mtime_ns)
                          for path in root.iterdir() if (path / READY_FILE).is_file()))
             if root.is_dir() else ())
    packages = Path(sysconfig.get_paths()["purelib"])
    return ready, packages.stat().st_mtime_ns if packages.is_dir() else None


def stamp(environment: Environment) -> tuple[str, int]:
    """Which install of an added environment this is (its folder and ready file's time, as in
    ``fingerprint``): removed and added again, the same version is another install."""
    try:
        return environment.path.name, (environment.path / READY_FILE).stat().st_mtime_ns
    except OSError:  # removed meanwhile
        return environment.path.name, 0


def installed() -> list[Environment]:
    """The server's own version first, then every complete added environment by version."""
    found = []
    root = folder()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            ready = path / READY_FILE
            if ready.is_file():
                info = json.loads(ready.read_text())
                found.append(Environment(info["tensorflow"], path, keras=info.get("keras"),
                                         size_mb=info.get("size_mb")))
    own = default()
    return [own, *sorted((e for e in found if e.version != own.version),
                         key=lambda e: _key(e.version))]


def _matches(env: Environment, asked: str) -> bool:
    return env.version == asked or env.version.startswith(asked + ".")


def resolve(asked: Sequence[str]) -> list[Environment]:
    """The environments ``--tf`` names, in the order given (``all``: every installed one,
    the default first; ``default``: the server's own); UsageError naming ``versions add``
    for one that is not here."""
    have = installed()
    if not asked:
        return have[:1]
    chosen: list[Environment] = []
    for text in asked:
        text = text.strip()
        if text not in ("all", "default") and not _SPEC.match(text):
            raise UsageError(f"--tf {text!r}: expected a version such as 2.20 or 2.20.0, "
                             "'default' or 'all'")
        picks = (have if text == "all" else have[:1] if text == "default"
                 else [e for e in have if _matches(e, text)][-1:])
        if not picks:
            raise UsageError(f"TensorFlow {text} is not installed here (installed: "
                             f"{', '.join(e.version for e in have)}); add it with "
                             f"'tf-graph-inspector versions add {text}'")
        repeated = [e for e in picks if e in chosen]
        if repeated and text != "all":
            raise UsageError(f"--tf {text}: TensorFlow {repeated[0].version} is named twice")
        chosen += [e for e in picks if e not in chosen]
    return chosen


def parse_spec(text: str) -> str:
    """``2.20`` or ``2.20.0`` checked against the versions this code supports; the pip
    requirement for it (the newest patch release of a minor version)."""
    match = _SPEC.match(text.strip())
    if match is None:
        raise UsageError(f"expected a TensorFlow version such as 2.20 or 2.20.0, not {text!r}")
    minor = int(match.group(1))
    if not OLDEST_MINOR <= minor <= NEWEST_MINOR:
        raise UsageError(f"TensorFlow {text} is outside what this inspector supports "
                         f"(2.{OLDEST_MINOR} to 2.{NEWEST_MINOR})")
    if match.group(2) is not None:
        return f"tensorflow=={text.strip()}"
    return f"tensorflow~=2.{minor}.0"


def _size_mb(path: Path) -> float:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return round(total / 2**20, 1)


def add(text: str, say: Callable[[str], None] = print) -> Environment:
    """Create an environment with the newest patch release of TensorFlow ``text`` (pip's
    output goes to ``say`` as it runs). An environment of that version already here is kept.
    Raises UsageError for a version outside the supported range, VersionError when pip fails
    (the half-made folder is removed)."""
    requirement = parse_spec(text)
    for env in installed():
        if _matches(env, text.strip()):
            if env.default:
                raise UsageError(f"TensorFlow {env.version} is the server's own (the default); "
                                 "there is nothing to add")
            say(f"TensorFlow {env.version} is already installed at {env.path}")
            return env
    root = folder()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    try:
        work.chmod(0o755)  # sandboxed workers run as another user: they read it, no more
        _run([sys.executable, "-m", "venv", str(work)], say)
        python = str(work / "bin" / "python")
        _run([python, "-m", "pip", "install", "--progress-bar", "off", requirement], say)
        probe = ("import importlib.metadata as m, json\n"
                 "def get(p):\n"
                 "    try:\n        return m.version(p)\n"
                 "    except m.PackageNotFoundError:\n        return None\n"
                 "print(json.dumps({'tensorflow': get('tensorflow'), 'keras': get('keras')}))")
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
        info = json.loads(done.stdout)
        target = root / f"tf-{info['tensorflow']}"
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        info["size_mb"] = _size_mb(target)
        info["requirement"] = requirement
        (target / READY_FILE).write_text(json.dumps(info) + "\n")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    say(f"TensorFlow {info['tensorflow']} (Keras {info['keras']}) at {target}, "
        f"{info['size_mb']:,.0f} MB")
    return Environment(info["tensorflow"], target, keras=info["keras"], size_mb=info["size_mb"])


def _run(command: list[str], say: Callable[[str], None]) -> None:
    """Run ``command``, passing its output on line by line; VersionError when it fails."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        say(line.rstrip())
        tail = (tail + [line.rstrip()])[-5:]
    if process.wait() != 0:
        raise VersionError(f"{Path(command[0]).name} {' '.join(command[1:3])} ... "
                           f"{command[-1]} failed (exit {process.returncode}); its last lines: "
                           + " | ".join(line[:200] for line in tail[-3:]))


def remove(text: str) -> Environment:
    """Delete an added environment (the server's own cannot be removed)."""
    if text.strip() == "default":
        raise UsageError("the default TensorFlow is the server's own environment; it cannot "
                         "be removed")
    matching = [e for e in installed() if _matches(e, text.strip())]
    if not matching:
        raise UsageError(f"TensorFlow {text} is not installed here (installed: "
                         f"{', '.join(e.version for e in installed())})")
    env = matching[-1]
    if env.default:
        raise UsageError(f"TensorFlow {env.version} is the server's own environment; it cannot "
                         "be removed")
    shutil.rmtree(env.path)
    return env
