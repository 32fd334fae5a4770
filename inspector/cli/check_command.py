"""``check``: run an expectations file's inspections and hold each report to its bounds (CI).

Exit 0 when every bound holds, 1 when any fails (or its run or mode failed), 2 on bad input:
the file, a source, a call or a saved run it names. Every inspection runs through the same
backend and workers as ``inspect``, one executor for the whole file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from inspector.cli.common import (
    EXIT_MODE_FAILED,
    EXIT_OK,
    add_config_argument,
    seconds,
    write_text,
)
from inspector.errors import InputError, UsageError
from inspector.inputs import expectations, sources
from inspector.jobs import backends, versions
from inspector.jobs.executor import Limits, check_fits
from inspector.report import Report

if TYPE_CHECKING:
    from inspector.inputs.expectations import Expectation
    from inspector.inputs.request import InspectRequest


def add_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("expectations", metavar="EXPECTATIONS.toml",
                       help="[[expect]] tables: what to inspect and bounds on what it shows "
                            "(README: Checks in CI)")
    check.add_argument("--junit", metavar="PATH", help="write JUnit XML (one test per bound)")
    check.add_argument("--json", metavar="PATH",
                       help="write the verdicts and every run's full report ('-': stdout)")
    check.add_argument("--baseline", metavar="PATH",
                       help="a passing run's --json: a failed bound prints what changed since")
    check.add_argument("--tf", action="append", default=[], metavar="VERSION",
                       help="repeatable: hold every expectation on this TensorFlow too (e.g. "
                            "2.20; 'all': every installed one); default: the server's own")
    check.add_argument("--executor", choices=backends.KINDS,
                       help="where the workers run (as for inspect); default $INSPECTOR_EXECUTOR")
    check.add_argument("--timeout", type=seconds, metavar="SECONDS",
                       help="seconds per inspection (default: the source's own, else 60)")
    add_config_argument(check)


def _request(expectation: Expectation, folder: Path) -> InspectRequest:
    """The expectation's inspection as ``inspect`` would build it (a relative source path is
    read from the expectations file's folder); its errors name the table."""
    from inspector.inputs.request import prepare

    where = expectation.source
    if not where.startswith(sources.GALLERY_PREFIX) and not Path(where).is_absolute():
        where = str(folder / where)
    try:
        source = sources.read_source(where)
        return prepare(source, expectation.function, expectation.calls, expectation.modes,
                       expectation.grappler, device=expectation.device, runs=expectation.runs,
                       include_graphs=True)
    except InputError as exc:
        raise type(exc)(f"[[expect]] #{expectation.number} (line {expectation.line}): "
                        f"{exc.message}") from None


def _saved_reports(wanted: list[Expectation], config: str | None) -> dict[str, Report]:
    """median_vs's saved runs, each with a report (RunNotFound or UsageError otherwise)."""
    ids = {e.baseline_run for e in wanted if e.baseline_run}
    if not ids:
        return {}
    from inspector.hosting import policy

    found = {}
    with contextlib.closing(policy.open_store(policy.load(config))) as store:
        for run_id in sorted(ids):
            saved = store.get(run_id)
            if saved.report is None:
                raise UsageError(f"median_vs: saved run {run_id} is {saved.summary.status} "
                                 "and has no report to compare with")
            found[run_id] = saved.report
    return found


def _baseline(path: str | None) -> dict[str, Report] | None:
    if path is None:
        return None
    from inspector.output.checks import baseline_reports

    try:
        return baseline_reports(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"--baseline {path}: not a check --json output: {exc}") from None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from inspector.output import checks

    wanted = list(expectations.load(args.expectations))
    requests = [_request(e, Path(args.expectations).parent) for e in wanted]
    # With the JSON on stdout, the verdict lines go to stderr.
    lines = err if args.json == "-" else out
    limits = []
    for request in requests:
        timeout = args.timeout or sources.default_timeout_s(request.source)
        limits.append(Limits(timeout_s=timeout))
        check_fits(request, limits[-1])
    environments = versions.resolve(args.tf)
    saved = _saved_reports(wanted, args.config)
    baseline = _baseline(args.baseline)
    outcomes, reports = [], []
    for environment in environments:
        # With several versions, each label says which one it ran on.
        on = (f" on TF {environment.version}" if len(environments) > 1 else "")
        with backends.start(args.executor, limits=max(limits, key=lambda li: li.timeout_s),
                            environment=environment) as pool:
            jobs = [pool.submit(request, lim)
                    for request, lim in zip(requests, limits, strict=True)]
            for expectation, job in zip(wanted, jobs, strict=True):
                expectation = dataclasses.replace(expectation, name=expectation.label + on)
                report = job.result()
                reports.append((expectation, report))
                found = checks.evaluate(expectation, report,
                                        saved.get(expectation.baseline_run or ""))
                outcomes += found
                for outcome in found:
                    lines.write(outcome.line() + "\n")
                    if not outcome.passed and baseline is not None:
                        before = baseline.get(expectation.label)
                        lines.write("\n".join(checks.changes_since(outcome, report, before))
                                    + "\n")
                lines.flush()
    failed = [o for o in outcomes if not o.passed]
    lines.write(f"{len(outcomes) - len(failed)} of {len(outcomes)} bounds hold"
              + (f"; {len(failed)} failed" if failed else "") + "\n")
    write_text(checks.junit_xml(outcomes, args.expectations), args.junit, out)
    write_text(json.dumps(checks.to_json(outcomes, reports)) + "\n", args.json, out)
    return EXIT_MODE_FAILED if failed else EXIT_OK
