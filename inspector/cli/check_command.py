"""``check``: run an expectations file's inspections and hold each report to its bounds (CI).

Exit 0 when every bound holds, 1 when any fails (or its run or mode failed), 2 on bad input:
the file, a source, a call or a saved run it names. Every inspection runs through the same
backend and workers as ``inspect``, one executor for the whole file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from inspector.cli.common import (
    EXIT_MODE_FAILED,
    EXIT_OK,
    add_config_argument,
    check_writable,
    seconds,
    write_text,
)
from inspector.errors import InputError, InspectorError, UsageError
from inspector.inputs import modes, sources
from inspector.jobs import backends, versions
from inspector.jobs.executor import Limits, check_fits
from inspector.report import Report

if TYPE_CHECKING:
    from inspector.inputs.expectations import Expectation
    from inspector.inputs.request import InspectRequest
    from inspector.output.checks import BaselineKey


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
                       help="repeatable: hold every expectation on each TensorFlow named (e.g. "
                            "2.20, 'default', 'all'); without it: the server's own only")
    check.add_argument("--executor", choices=backends.KINDS,
                       help="where the workers run (as for inspect); default $INSPECTOR_EXECUTOR")
    check.add_argument("--timeout", type=seconds, metavar="SECONDS",
                       help="seconds per inspection (default: the source's own, else 60)")
    add_config_argument(check)


# Modes a table runs when it names none: every mode with a graph (eager has none, so every
# graph bound would fail there).
DEFAULT_MODES = tuple(m for m in modes.CODE_MODES if m != "eager")
# Which key an input error is about, by its type (for the line it names).
_ERROR_KEYS = {"CallSpecError": ("calls", "source"), "FunctionNotFound": ("function", "source"),
               "SourceError": ("source",),
               "UsageError": ("modes", "grappler", "device", "source")}


def _request(expectation: Expectation, folder: Path) -> InspectRequest:
    """The expectation's inspection as ``inspect`` would build it (a relative source path is
    read from the expectations file's folder); its errors name the file, table and line."""
    from inspector.inputs.request import prepare

    where = expectation.source
    if not where.startswith(sources.GALLERY_PREFIX) and not Path(where).is_absolute():
        where = str(folder / where)
    try:
        source = sources.read_source(where)
        return prepare(source, expectation.function, expectation.calls,
                       expectation.modes or DEFAULT_MODES, expectation.grappler,
                       device=expectation.device, runs=expectation.runs, include_graphs=True)
    except InputError as exc:
        keys = _ERROR_KEYS.get(exc.type, ())
        raise type(exc)(f"{expectation.where(*keys)}: {exc.message}") from None


def _saved_reports(wanted: list[Expectation], config: str | None) -> dict[str, Report]:
    """median_vs's saved runs, each with a report (RunNotFound or UsageError naming the table
    otherwise)."""
    asking = [e for e in wanted if e.baseline_run]
    if not asking:
        return {}
    from inspector.hosting import policy

    found: dict[str, Report] = {}
    with contextlib.closing(policy.open_store(policy.load(config))) as store:
        for expectation in asking:
            run_id = expectation.baseline_run or ""
            try:
                saved = store.get(run_id)
            except InputError as exc:
                raise type(exc)(f"{expectation.where('median_vs')} median_vs: "
                                f"{exc.message}") from None
            if saved.report is None:
                raise UsageError(f"{expectation.where('median_vs')} median_vs: saved run "
                                 f"{run_id} is {saved.summary.status} and has no report")
            found[run_id] = saved.report
    return found


def _baseline(path: str | None) -> dict[BaselineKey, Report] | None:
    if path is None:
        return None
    from inspector.output.checks import baseline_reports

    try:
        return baseline_reports(json.loads(Path(path).read_text(encoding="utf-8")))
    except UsageError as exc:
        raise UsageError(f"--baseline {path}: not a check --json output: {exc.message}") \
            from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"--baseline {path}: not a check --json output: {exc}") from None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Bad input (the file, a source, a call, a saved run) still writes --json and --junit,
    saying so, so a CI step never reads an older file."""
    from inspector.output import checks

    check_writable(args.junit, "--junit")
    check_writable(args.json, "--json")
    try:
        return _run(args, out, err)
    except InspectorError as exc:  # bad input or set-up, before any verdict
        message = f"{exc.type}: {exc.message}"
        write_text(checks.error_junit(message, args.expectations), args.junit, out)
        write_text(json.dumps({"passed": False, "error": exc.to_dict(), "outcomes": [],
                               "reports": []}) + "\n", args.json, out)
        raise


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from inspector.inputs import expectations  # TOML: only when a check runs
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
        with backends.start(args.executor, limits=max(limits, key=lambda li: li.timeout_s),
                            environment=environment) as pool:
            jobs = [pool.submit(request, lim)
                    for request, lim in zip(requests, limits, strict=True)]
            for expectation, job in zip(wanted, jobs, strict=True):
                report = job.result()
                reports.append((expectation, report))
                found = checks.evaluate(expectation, report,
                                        saved.get(expectation.baseline_run or ""),
                                        show_version=bool(args.tf))
                outcomes += found
                for outcome in found:
                    lines.write(outcome.line() + "\n")
                    if not outcome.passed and not outcome.errored and baseline is not None:
                        before = baseline.get(checks.key_of(expectation.number, report))
                        lines.write("\n".join(checks.changes_since(outcome, report, before))
                                    + "\n")
                lines.flush()
    failed = [o for o in outcomes if not o.passed]
    lines.write(f"{len(outcomes) - len(failed)} of {len(outcomes)} bounds hold"
                + (f"; {len(failed)} failed" if failed else "") + "\n")
    write_text(checks.junit_xml(outcomes, args.expectations), args.junit, out)
    write_text(json.dumps(checks.to_json(outcomes, reports)) + "\n", args.json, out)
    return EXIT_MODE_FAILED if failed else EXIT_OK
