"""The package's boundaries and its packaging: what may import TensorFlow, and pinned deps."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import inspector

ROOT = Path(__file__).resolve().parent.parent

# Only the engine and the worker's entry point may import TensorFlow. UI pages are Streamlit
# scripts (importing one runs it; so does __main__); test_app checks the running app instead.
TENSORFLOW_ALLOWED = ("inspector.engine.", "inspector.jobs.worker")
SCRIPTS = ("inspector.ui.inspect_page", "inspector.ui.history_page", "inspector.ui.compare_page",
           "inspector.__main__")

_FIRST_IMPORTER = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    if "tensorflow" in sys.modules:
        print(name)
        break
"""


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(inspector.__path__, "inspector."))


def first_tensorflow_importer(modules: list[str]) -> str | None:
    """Import ``modules`` in turn in a fresh interpreter; the first after which TensorFlow is
    loaded (directly or through what it imports), or None."""
    done = subprocess.run([sys.executable, "-c", _FIRST_IMPORTER, *modules], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip() or None


def test_only_the_engine_and_the_worker_entry_import_tensorflow():
    outside = [m for m in _modules()
               if not m.startswith(TENSORFLOW_ALLOWED) and m not in SCRIPTS]
    assert "inspector.cli" in outside and "inspector.jobs.local" in outside
    assert first_tensorflow_importer(outside) is None


def test_the_boundary_check_catches_an_engine_import():
    # The same check on a list with one engine module in it names that module.
    assert first_tensorflow_importer(
        ["inspector.graphs.diff", "inspector.engine.inspection", "inspector.cli"]
    ) == "inspector.engine.inspection"


def _pins(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-r"))]


def test_requirements_files_agree_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _pins(ROOT / "requirements.txt") == project["dependencies"]
    assert _pins(ROOT / "requirements-dev.txt") == project["optional-dependencies"]["dev"]
    assert all("==" in pin for pin in project["dependencies"] + project["optional-dependencies"]["dev"])


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "tf-graph-inspector"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "inspect" in done.stdout


def _lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config",
                           str(ROOT / "pyproject.toml"), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layering_contracts_hold():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("where, code, contract, named", [
    ("engine/shortcut.py", "from inspector.jobs import turns\n",
     "engine imports nothing from jobs, ui, cli, store or hosting",
     "inspector.engine.shortcut -> inspector.jobs.turns"),
    ("graphs/fast_path.py", "import tensorflow as tf\n",
     "only the engine (and the worker, which runs it) imports TensorFlow",
     "inspector.graphs.fast_path -> tensorflow"),
])
def test_a_contract_fails_on_a_deliberate_bad_import_and_names_it(tmp_path, where, code,
                                                                   contract, named):
    """A bad import in a copy of the package (the checkout is not touched): the contract
    breaks and names the importing module and line."""
    import os
    import shutil

    shutil.copytree(ROOT / "inspector", tmp_path / "inspector",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "inspector" / where).write_text(code)
    done = _lint_imports(tmp_path, {**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert f"{contract} BROKEN" in done.stdout
    assert named in done.stdout


def test_no_function_of_the_package_is_over_60_lines():
    """Longer ones read as several steps: split them into named ones."""
    import ast

    long = []
    for path in sorted((ROOT / "inspector").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, long
