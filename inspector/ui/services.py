"""What every page shares: the worker pool, the run store, and jobs that save themselves.

Cached with ``st.cache_resource``: one pool and one store per server process, shared by every
session. A submitted job is saved by a thread of its own when it ends, so a run is kept even
when the tab that asked for it closed during the job.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from inspector.errors import InspectorError
from inspector.hosting.policy import Policy
from inspector.hosting.policy import load as load_policy
from inspector.inputs.request import InspectRequest
from inspector.jobs.executor import Limits
from inspector.jobs.local import LocalExecutor, LocalJob
from inspector.report import Report
from inspector.store.runs import RunStore, SavedRun, data_dir


@st.cache_resource
def policy() -> Policy:
    """The operator's settings (INSPECTOR_CONFIG); PolicyError names a wrong key."""
    return load_policy()


def policy_or_error() -> Policy | None:
    """The settings, or None after showing what is wrong with them (instead of the page)."""
    try:
        return policy()
    except InspectorError as exc:
        st.error(f"{exc.type}: {exc.message}")
        return None


@st.cache_resource
def executor() -> LocalExecutor:
    """One warm worker pool per server process, shared by every session: the settings' worker
    count (or INSPECTOR_WORKERS; each worker holds ~1 GB), users served in turn."""
    settings = policy()
    workers = int(os.environ.get("INSPECTOR_WORKERS", settings.workers))
    return LocalExecutor(workers=workers, jobs_per_user=settings.jobs_per_user,
                         hidden=_hidden_paths(settings))


def _hidden_paths(settings: Policy) -> tuple[Path, ...]:
    """What the sandbox must cover even if a read-only bind would show it."""
    paths = [data_dir(), Path(".streamlit").resolve()]
    if settings.path:
        paths.append(Path(settings.path).resolve())
    return tuple(paths)


@st.cache_data(ttl=600, show_spinner="Waiting for a worker to list its devices ...")
def devices() -> tuple[list[str], str | None]:
    """The workers' devices, or why there are none (cached too: a pool that cannot start
    should not make every rerun wait for it)."""
    try:
        return list(executor().devices()), None
    except InspectorError as exc:
        return [], f"{exc.type}: {exc.message}"


@st.cache_resource
def store() -> RunStore:
    """The run store (INSPECTOR_DB / INSPECTOR_DATA); StoreError when it cannot open. Opened
    once per server: runs left running by a killed server become interrupted, and orphaned
    artifacts are swept."""
    return RunStore(maintain=True)


def store_or_error() -> RunStore | None:
    """The store, or None after showing why it cannot open (instead of the page)."""
    try:
        return store()
    except InspectorError as exc:
        st.error(f"{exc.type}: {exc.message}")
        return None


@st.cache_resource(max_entries=8, show_spinner="Reading the run from the store ...")
def _finished_run(run_id: str) -> SavedRun:
    return store().get(run_id)


def saved_run(run_id: str) -> SavedRun:
    """A saved run from the store; finished runs are kept in memory (they never change), so
    widget reruns and the pictures' caches (keyed by the report object) reuse them."""
    saved = store().get(run_id) if run_id not in _FINISHED else _finished_run(run_id)
    if saved.summary.status != "running":
        _FINISHED.add(run_id)
        return _finished_run(run_id)
    return saved


def forget_run(run_id: str) -> None:
    """After a delete: drop the cached copy."""
    store().delete(run_id)
    _FINISHED.discard(run_id)
    _finished_run.clear()


def saved_run_cache_clear() -> None:
    _FINISHED.clear()
    _finished_run.clear()


# Runs known to be finished (so their cached copy is current).
_FINISHED: set[str] = set()


class SavedJob:
    """A job whose run is in the store from submission on; saved by a thread when it ends."""

    def __init__(self, job: LocalJob, run_id: str, runs: RunStore):
        self.job = job
        self.run_id = run_id
        self.saved = threading.Event()
        threading.Thread(target=self._save, args=(runs,), daemon=True,
                         name=f"save-{run_id}").start()

    def _save(self, runs: RunStore) -> None:
        try:
            runs.finish(self.run_id, self.job.result())
        finally:
            self.saved.set()

    def report(self) -> Report:
        """The finished job's report, with its run id, once the run is saved."""
        self.saved.wait(30)
        return dataclasses.replace(self.job.result(), run_id=self.run_id)


def submit(request: InspectRequest, limits: Limits, user: str = "local",
           title: str | None = None) -> SavedJob:
    """Queue a request on the pool (users in turn) and keep it as a run (status running until
    it ends)."""
    runs = store()
    job = executor().submit(request, limits, user=user)
    run_id = runs.start(request, dataclasses.asdict(limits), owner=user, title=title)
    return SavedJob(job, run_id, runs)


def run_url(run_id: str) -> str:
    """The link that opens a saved run: this server's address with ``?run=<id>``."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode({'run': run_id})}"
