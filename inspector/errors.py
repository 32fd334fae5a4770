"""The typed errors that the engine, the workers, the CLI, the JSON report and the UI share.

Every error has a stable ``type`` (its class name), a ``message`` that says what to fix, and
the CLI's ``exit_code`` as a class attribute (2: change the input or the set-up; 1: something
ran and failed)::

    InspectorError                 exit 1
    ├── InputError                 the user's input is wrong; exit 2
    │   ├── UsageError             unknown mode, bad option, unknown gallery entry
    │   ├── SourceError            syntax or import error in the source (with its line)
    │   ├── FunctionNotFound       no such function, or the name is not callable
    │   ├── CallSpecError          bad dtype or shape text, wrong number of arguments, too big
    │   ├── ModelLoadError         a model file that cannot be read, unpacked or loaded safely
    │   ├── ExpectationError       ``check``'s expectations file: unreadable, unknown key, bad bound
    │   ├── RunNotFound            no saved run has that id (or it is not yours to see)
    │   └── NotAllowed             only the run's owner or an admin may do that
    ├── SetupError                 the inspector cannot run as set up here; exit 2
    │   ├── PolicyError            the settings file is missing, unreadable or has a wrong key
    │   │   └── ServeRefused       a check ``serve`` runs before serving failed
    │   ├── StoreError             the saved-runs store cannot be opened (URL, server, schema)
    │   ├── ExecutorError          the backend cannot take jobs (no Ray cluster there)
    │   ├── VersionError           a TensorFlow version cannot be added (pip failed)
    │   └── SandboxUnavailable     bubblewrap is missing or cannot build a sandbox here
    ├── UserCodeError              the user's function raised while tracing or running
    │   └── SandboxDenied          it touched a path the sandbox hides or keeps read-only
    ├── CaptureError               TensorFlow ran the function but recorded none of its graphs
    ├── NotFinished                a wait for a job's report ran out (also a TimeoutError)
    ├── WorkerError                the isolated worker could not finish the job
    │   ├── Timeout                the job ran past its wall-clock limit
    │   ├── MemoryLimit            the worker's process tree went past its memory cap
    │   ├── ProcessLimit           the user's code started more processes than a job may hold
    │   ├── ReportTooLarge         the worker sent more than the report-size cap
    │   ├── WorkerCrashed          the worker died (exit code, or signal name such as SIGSEGV),
    │   │                          or sent something that is not the protocol
    │   └── Cancelled              the caller cancelled the job
    └── RenderError                Graphviz's ``dot`` failed or timed out on a picture
        └── GraphvizMissing        Graphviz's ``dot`` is not installed; exit 2

Errors cross process boundaries as ``{"type", "message", "line", "frames", "traceback"}`` dicts
(``to_dict``/``from_dict``); that is also their form in the JSON report. The name -> class
table is read from the tree itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class InspectorError(Exception):
    """Base of every error the inspector reports to a user."""

    # The CLI's exit code for this error (see the module's tree).
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, line: int | None = None, frames: tuple[str, ...] = (),
                 traceback: str | None = None):
        super().__init__(message)
        self.message = message
        # 1-based line in the user's source that the error points at, when known.
        self.line = line
        # The user's own traceback frames ("file:line in func: code"), innermost last.
        self.frames = tuple(frames)
        # The whole Python traceback of a user code error, library frames included.
        self.traceback = traceback

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return ErrorInfo.from_exception(self).to_dict()


class InputError(InspectorError):
    """The user's input is wrong; nothing ran."""

    exit_code = 2


class UsageError(InputError):
    pass


class SourceError(InputError):
    pass


class FunctionNotFound(InputError):
    pass


class CallSpecError(InputError):
    pass


class ModelLoadError(InputError):
    pass


class ExpectationError(InputError):
    pass


class RunNotFound(InputError):
    pass


class NotAllowed(InputError):
    pass


class SetupError(InspectorError):
    """The inspector cannot run as it is set up here (settings, store, backend, sandbox): the
    operator's or the machine's to fix, not the input's; nothing ran."""

    exit_code = 2


class PolicyError(SetupError):
    """The settings file is missing, unreadable, or has a wrong key or value."""


class ServeRefused(PolicyError):
    """A check ``serve`` runs before serving failed."""


class StoreError(SetupError):
    pass


class ExecutorError(SetupError):
    """The chosen backend cannot take jobs: a Ray cluster that cannot be reached, or an
    unknown INSPECTOR_EXECUTOR."""


class VersionError(SetupError):
    pass


class SandboxUnavailable(SetupError):
    """bubblewrap is missing or cannot build a sandbox on this machine."""


class UserCodeError(InspectorError):
    pass


class SandboxDenied(UserCodeError):
    pass


class CaptureError(InspectorError):
    """TensorFlow ran the function but its run metadata holds none of its graphs."""


class NotFinished(InspectorError, TimeoutError):
    """A caller's wait for a job's report ran out; the job goes on (a TimeoutError too, as
    ``concurrent.futures`` callers expect)."""


class WorkerError(InspectorError):
    pass


class Timeout(WorkerError):
    pass


class MemoryLimit(WorkerError):
    pass


class ProcessLimit(WorkerError):
    pass


class ReportTooLarge(WorkerError):
    pass


class WorkerCrashed(WorkerError):
    pass


class Cancelled(WorkerError):
    pass


class RenderError(InspectorError):
    pass


class GraphvizMissing(RenderError):
    """Install Graphviz, or ask for no pictures: the input's to change, like InputError."""

    exit_code = 2


def error_classes(base: type[InspectorError] = InspectorError) -> list[type[InspectorError]]:
    """``base`` and every class below it, read from the tree (not a list kept by hand)."""
    return [base, *(c for sub in base.__subclasses__() for c in error_classes(sub))]


def _by_name() -> dict[str, type[InspectorError]]:
    return {cls.__name__: cls for cls in error_classes()}


@dataclass(frozen=True)
class ErrorInfo:
    """An error as data: what the JSON report, the CLI and the UI show."""

    # Class name: one of this module's classes, or for a call TensorFlow refused the
    # TensorFlow/Python exception's own class name (e.g. "TypeError").
    type: str
    # One or more sentences saying what went wrong and what to fix.
    message: str
    # 1-based line in the user's source, when the error points at one.
    line: int | None = None
    # The user's own traceback frames, innermost last; TensorFlow's frames are trimmed.
    frames: tuple[str, ...] = field(default=())
    # The whole traceback (user code errors): what the UI's "Traceback" expander holds.
    traceback: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, InspectorError):
            return cls(exc.type, exc.message, exc.line, exc.frames, exc.traceback)
        return cls(type(exc).__name__, str(exc).strip() or type(exc).__name__)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "line": self.line,
                "frames": list(self.frames), "traceback": self.traceback}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorInfo:
        return cls(data["type"], data["message"], data.get("line"), tuple(data.get("frames", ())),
                   data.get("traceback"))

    def to_exception(self) -> InspectorError:
        exc_cls = _by_name().get(self.type, InspectorError)
        return exc_cls(self.message, line=self.line, frames=self.frames,
                       traceback=self.traceback)

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.type}{where}: {self.message}"


def exit_code_of(error_type: str) -> int:
    """The exit code of an error type name from a report (1 for TensorFlow's own errors)."""
    found = _by_name().get(error_type)
    return found.exit_code if found is not None else InspectorError.exit_code


def error_types(base: type[InspectorError]) -> set[str]:
    """The type names of ``base`` and every error class below it in the tree."""
    return {cls.__name__ for cls in error_classes(base)}
