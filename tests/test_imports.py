"""Starting workers stand still while a job runs (issue 24: a click 1 s after a result ran
beside the replacement's TensorFlow import). Real process groups, stopped and continued by
the kernel; a `sleep` stands in for an importing worker."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import psutil
import pytest

from inspector.jobs import imports
from inspector.jobs.imports import ImportPauses


@pytest.fixture
def group() -> Iterator[int]:
    """A process in a group of its own, as a worker is started."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process.pid
    process.kill()
    process.wait()


def stopped(pid: int) -> bool:
    """Whether the process is stopped, once the kernel delivered the last signal (a signal is
    sent at once but acted on when the process next runs: a moment later)."""
    deadline = time.monotonic() + 0.1
    while True:
        now = psutil.Process(pid).status() == psutil.STATUS_STOPPED
        if time.monotonic() > deadline:
            return now
        time.sleep(0.01)


def started(pauses: ImportPauses, group: int) -> None:
    """A worker started and said it is alive (it dies with its parent)."""
    pauses.starting(group)
    pauses.alive(group)


def test_a_worker_is_not_stopped_before_it_dies_with_its_parent(group):
    """A process stopped before its parent-death signal was set outlived a killed server,
    stopped for good (found by killing the server right after a click)."""
    pauses = ImportPauses()
    pauses.starting(group)
    pauses.job_began()
    assert not stopped(group)
    pauses.alive(group)
    assert stopped(group), "alive while a job runs: stopped at once"
    pauses.ready(group)


def test_a_starting_worker_stands_still_while_a_job_runs_and_a_moment_after(group):
    pauses = ImportPauses()
    started(pauses, group)
    assert not stopped(group), "no job runs: it imports"
    pauses.job_began()
    assert stopped(group)
    pauses.job_ended()
    assert stopped(group), "the report is on its way to the page"
    time.sleep(imports.RESUME_AFTER_S + 0.3)
    assert not stopped(group)


def test_a_worker_started_during_a_job_stands_still_at_once_and_a_new_job_keeps_it(group):
    pauses = ImportPauses()
    pauses.job_began()
    started(pauses, group)
    assert stopped(group)
    pauses.job_ended()
    pauses.job_began()  # a click right after the result: the first job's timer must not win
    time.sleep(imports.RESUME_AFTER_S + 0.3)
    assert stopped(group)
    pauses.ready(group)  # a worker is continued before anyone can hand it a job
    assert not stopped(group)


def test_a_job_waiting_for_a_worker_or_the_pause_limit_continues_it(group, monkeypatch):
    pauses = ImportPauses()
    started(pauses, group)
    pauses.job_began()
    pauses.check(group, job_waits=False)
    assert stopped(group)
    pauses.check(group, job_waits=True)
    assert not stopped(group), "a queued job needs this import"
    monkeypatch.setattr(imports, "PAUSE_LIMIT_S", 0.2)
    pauses.job_ended()
    pauses.job_began()
    assert stopped(group)
    time.sleep(0.3)
    pauses.check(group, job_waits=False)
    assert not stopped(group), "a long job delays a spare by the limit at most"
    pauses.job_ended()
    pauses.job_began()
    assert not stopped(group), "its pauses are spent"


def test_a_group_that_is_gone_is_no_error():
    gone = subprocess.Popen(["true"], start_new_session=True)
    gone.wait()
    pauses = ImportPauses()
    started(pauses, gone.pid)
    pauses.job_began()
    pauses.check(gone.pid, job_waits=True)
    pauses.job_ended()
    pauses.ready(gone.pid)


def test_a_click_stops_them_at_once_and_its_job_takes_its_place(group):
    pauses = ImportPauses()
    started(pauses, group)
    pauses.expect_job()
    assert stopped(group), "the page's run before the submit is part of the click"
    pauses.job_began()
    pauses.job_ended()
    time.sleep(imports.RESUME_AFTER_S + 0.3)
    assert not stopped(group), "the click's hold ended with its job"


def test_a_click_whose_job_never_comes_holds_them_a_moment_only(group, monkeypatch):
    monkeypatch.setattr(imports, "EXPECTED_S", 0.2)
    pauses = ImportPauses()
    started(pauses, group)
    pauses.expect_job()  # a request the page refused: no job
    assert stopped(group)
    time.sleep(0.2 + imports.RESUME_AFTER_S + 0.3)
    assert not stopped(group)
