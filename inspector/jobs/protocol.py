"""The worker's JSON-lines protocol: event names, and how a final report is put back together.

The worker writes ``{"event": "ready", ...}`` on its control pipe, reads one request line,
writes ``stage``, ``measured`` and ``mode`` events, and ends with ``done`` (a report) or
``failed`` (an error). Shared by the parent (``local``) and the worker (``worker``), so neither spells the
names on its own.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import replace
from enum import StrEnum
from typing import Any, TextIO

from inspector.errors import WorkerCrashed
from inspector.inputs.request import InspectRequest
from inspector.report import ModeResult, Report, mode_result_from_worker, report_from_worker


class Event(StrEnum):
    # The worker runs and dies with its parent (set before anything else): the pool may stop
    # its import from now on (imports.py); a process stopped before that outlived a killed
    # server.
    ALIVE = "alive"
    # The worker imported TensorFlow and waits for a job: pid, tensorflow, devices.
    READY = "ready"
    # A new stage (and mode) began.
    STAGE = "stage"
    # One mode's figures for the matrix, before its profile and analysis: a partial ModeResult.
    MEASURED = "measured"
    # One mode finished: its ModeResult.
    MODE = "mode"
    # The job ended with a report; results already sent are named ``{"sent": mode}``.
    DONE = "done"
    # The engine itself failed: an ErrorInfo dict.
    FAILED = "failed"


# What a line from a worker must carry besides "event", per event (the parent checks each line:
# the control pipe is an open descriptor in the process that runs the user's code).
REQUIRED: dict[str, tuple[str, ...]] = {
    Event.ALIVE: (), Event.READY: ("tensorflow", "devices"), Event.STAGE: ("stage",),
    Event.MEASURED: ("mode", "result"), Event.MODE: ("mode", "result"),
    Event.DONE: ("report",), Event.FAILED: ("error",)}
NOT_PROTOCOL = "the worker sent something that is not the protocol"
# The field of the job message, and of each of the worker's events, that holds a token
# the worker takes from the job before it runs any of the user's code. The user's code could
# still dig it out of the worker's memory (it shares the process), so it is no proof: it stops
# a stray or naive forged end, and the server replaces what it knows itself in any report.
END_TOKEN = "end_token"


def parse(line: bytes) -> dict[str, Any]:
    """One event line; WorkerCrashed saying what is wrong with it (the worker may be running
    hostile code: anything off the protocol ends the job)."""
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorkerCrashed(f"{NOT_PROTOCOL}: a line that is not JSON ({exc})") from None
    if not isinstance(event, dict) or event.get("event") not in REQUIRED:
        raise WorkerCrashed(f"{NOT_PROTOCOL}: an unknown event {str(event)[:80]!r}")
    missing = [key for key in REQUIRED[event["event"]] if key not in event]
    if missing:
        raise WorkerCrashed(f"{NOT_PROTOCOL}: a {event['event']} event without "
                            f"{', '.join(missing)}")
    return event


# The field of each of the worker's events that holds its clock (time.monotonic) when sent:
# events read in one batch arrive together, though the stages between them took time.
AT = "at"


def send(control: TextIO, event: Event, **fields: Any) -> None:
    control.write(json.dumps({"event": str(event), AT: time.monotonic(), **fields}) + "\n")
    control.flush()


def sent_at(event: dict[str, Any]) -> float | None:
    """The worker's clock when it sent ``event`` (None when it does not say); WorkerCrashed
    for a time that is not a finite number."""
    at = event.get(AT)
    if at is None:
        return None
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise WorkerCrashed(f"{NOT_PROTOCOL}: a {event['event']} event sent at {str(at)[:40]!r}")
    return float(at)


def job_message(request: InspectRequest, log_path: str, end_token: str) -> bytes:
    """The one line a worker reads: where its log goes, what to inspect, and the token its
    ``done`` or ``failed`` event must carry (END_TOKEN)."""
    return (json.dumps({"log_path": log_path, "request": request.to_dict(),
                        END_TOKEN: end_token}) + "\n").encode()


def new_end_token() -> str:
    return secrets.token_hex(16)


def check_token(event: dict[str, Any], end_token: str) -> None:
    """Every event of a job must carry the job's token: the parent stops the worker at its
    last event without waiting for the pipe to close, and keeps the figures of a job that
    stopped, so a line the user's code wrote must not pass for the worker's own (a forged
    result followed by a crash was saved as the run's figures, found in a walk).
    WorkerCrashed when it does not."""
    if not secrets.compare_digest(str(event.get(END_TOKEN, "")), end_token):
        raise WorkerCrashed(f"{NOT_PROTOCOL}: a {event['event']} event without the job's "
                            "token (the user's code wrote to the worker's pipe)")


def off_protocol(error: Exception) -> WorkerCrashed:
    """A worker's line that broke the protocol (a field of another type, a mode not asked for,
    a missing key), as the WorkerCrashed that ends its job."""
    said = error.message if isinstance(error, WorkerCrashed) else repr(error)
    return WorkerCrashed(f"{NOT_PROTOCOL}: {said}")


def assemble(data: dict[str, Any], received: dict[str, ModeResult]) -> Report:
    """The worker's final report; results it names with ``{"sent": mode}`` are the ones its
    ``mode`` events already delivered. WorkerCrashed for a field of another type than the
    report's (the worker runs the user's code)."""
    results = tuple(received[item["sent"]] if isinstance(item, dict) and "sent" in item
                    else mode_result_from_worker(item) for item in data.get("results", ()))
    return replace(report_from_worker({**data, "results": []}), results=results)
