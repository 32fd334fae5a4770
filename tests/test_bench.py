"""The benchmarks' registry: every family module is run, every name is listed, and every
script a benchmark starts exists (a benchmark is run by hand, so a slip shows only then)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.common import SCRIPTS  # noqa: E402
from bench.registry import BENCHMARKS  # noqa: E402


def test_every_module_that_registers_benchmarks_is_a_family_run_imports() -> None:
    families = {family.__name__ for family in run.FAMILIES}
    registering = {f"bench.{path.stem}" for path in (ROOT / "bench").glob("*.py")
                   if "@benchmark(" in path.read_text()}
    assert registering == families
    assert {b.run.__module__ for b in BENCHMARKS.values()} == families


def test_list_names_every_benchmark_in_family_order() -> None:
    listed = subprocess.run([sys.executable, str(ROOT / "bench/run.py"), "--list"],
                            capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in listed.splitlines()]
    assert names == [b.name for b in run.in_order()]
    assert sorted(names) == sorted(BENCHMARKS)
    assert names[0] == "stages" and "click" in names and "ray" in names


def test_every_script_a_benchmark_starts_exists() -> None:
    started = set()
    for path in (ROOT / "bench").glob("*.py"):
        started |= set(re.findall(r"script(?:_path)?\(\"(\w+)\"", path.read_text()))
    assert started, "the benchmarks start scripts"
    assert {name for name in started if not (SCRIPTS / f"{name}.py").is_file()} == set()


def test_an_unknown_name_is_refused_with_the_choices() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench/run.py"), "--only", "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice: 'nope'" in done.stderr
    assert "stages" in done.stderr
