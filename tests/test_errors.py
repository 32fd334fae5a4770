"""The error tree: drawn in errors.py's docstring as the classes are, each class with its exit
code, read back by name from the tree itself; and the CLI exits with the class's code."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import errors
from inspector.errors import (
    ErrorInfo,
    InspectorError,
    NotFinished,
    WorkerCrashed,
    error_classes,
    exit_code_of,
)
from tests.helpers import ROOT

_DRAWN = re.compile(r"^ {4}(?P<indent>(?:[│ ] {3})*)(?:[├└]── )?(?P<name>[A-Z]\w+)\b", re.M)


def drawn_tree() -> dict[str, str | None]:
    """Each class the docstring draws, with the class drawn as its parent."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for match in _DRAWN.finditer(errors.__doc__ or ""):
        depth = len(match["indent"]) // 4 + (0 if match["name"] == "InspectorError" else 1)
        del stack[depth:]
        parents[match["name"]] = stack[-1] if stack else None
        stack.append(match["name"])
    return parents


def test_the_docstring_draws_every_class_under_its_base():
    drawn = drawn_tree()
    classes = {cls.__name__: cls for cls in error_classes()}
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        base = classes[name].__bases__[0]
        assert (base.__name__ if base is not Exception else None) == parent, name


def test_each_class_carries_its_exit_code_and_the_tree_says_it():
    text = errors.__doc__ or ""
    for cls in error_classes():
        line = next(line for line in text.splitlines() if re.search(rf"\b{cls.__name__}\b", line))
        said = re.search(r"exit (\d)", line)
        if said:  # the classes that set it say so; the rest inherit it
            assert cls.exit_code == int(said.group(1)), cls.__name__
            assert "exit_code" in vars(cls) or cls is InspectorError, cls.__name__
    assert errors.SandboxUnavailable.exit_code == errors.StoreError.exit_code == 2
    assert errors.UserCodeError.exit_code == errors.Timeout.exit_code == 1
    assert exit_code_of("GraphvizMissing") == 2 and exit_code_of("InvalidArgumentError") == 1


def test_every_class_crosses_processes_by_name():
    for cls in error_classes():
        info = ErrorInfo.from_exception(cls("what to fix", line=3))
        again = ErrorInfo.from_dict(json.loads(json.dumps(info.to_dict()))).to_exception()
        assert type(again) is cls and again.line == 3


def test_settings_and_sandbox_errors_are_set_up_errors_not_bad_input():
    from inspector.hosting import policy, sandbox

    assert issubclass(policy.PolicyError, errors.SetupError)
    assert issubclass(sandbox.SandboxUnavailable, errors.SetupError)
    assert not issubclass(errors.StoreError, errors.InputError)


def test_inspect_without_bubblewrap_when_it_is_required_exits_2_with_the_typed_error(tmp_path):
    """It died with a traceback (issue 23)."""
    env = {**os.environ, "INSPECTOR_SANDBOX": "bwrap", "PATH": str(tmp_path),
           "INSPECTOR_DATA": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "inspector", "inspect", "gallery:process_data",
                           "--mode", "spec", "--json", "-"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: SandboxUnavailable: bubblewrap is not installed")
    assert json.loads(done.stdout)["error"]["type"] == "SandboxUnavailable"


@pytest.mark.parametrize("name", ["StoreError", "ExecutorError", "PolicyError"])
def test_set_up_errors_keep_their_exit_code_in_a_report(name):
    from inspector.cli.common import exit_code
    from inspector.report import Report

    report = Report(tensorflow=None, error=ErrorInfo(name, "fix the set-up"))
    assert exit_code(report) == 2


# Raised by protocol, not by us: a module's __getattr__ must raise AttributeError.
_PROTOCOL_RAISES = {("inspector/__init__.py", "AttributeError")}


def _raised_names() -> set[tuple[str, str]]:
    """(file, class) of every ``raise Name(...)`` and ``raise Name`` in the package."""
    found = set()
    for path in sorted((ROOT / "inspector").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(target, ast.Name) and target.id[0].isupper():
                    found.add((str(path.relative_to(ROOT)), target.id))
    return found


def test_every_exception_the_package_raises_is_in_the_tree():
    ours = {cls.__name__ for cls in error_classes()}
    outside = {(f, name) for f, name in _raised_names() if name not in ours}
    assert outside == _PROTOCOL_RAISES


def test_a_worker_line_off_the_protocol_is_a_worker_crash_not_a_value_error():
    from inspector.jobs import protocol

    for line in (b"not json", b'{"event": "nope"}', b'{"event": "done"}'):
        with pytest.raises(WorkerCrashed, match=protocol.NOT_PROTOCOL):
            protocol.parse(line)


def test_waiting_too_little_for_a_job_is_a_typed_timeout_that_timeout_catchers_still_catch():
    assert issubclass(NotFinished, TimeoutError) and issubclass(NotFinished, InspectorError)
