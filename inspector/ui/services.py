"""What every page shares: the worker pool, the run store, and jobs that save themselves.

Cached with ``st.cache_resource``: one pool and one store per server process, shared by every
session. A submitted job is saved by a thread of its own when it ends, so a run is kept even
when the tab that asked for it closed during the job.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import streamlit as st

from inspector.errors import InspectorError, PolicyError, UsageError
from inspector.hosting.identity import LOCAL, User, check_auth, from_claims, provider_name
from inspector.hosting.policy import (
    HOSTED_ENV,
    SECRETS_ENV,
    Policy,
    open_store,
    store_settings,
)
from inspector.hosting.policy import load as load_policy
from inspector.inputs.request import InspectRequest
from inspector.jobs import backends, versions
from inspector.jobs.executor import Executor, JobHandle, Limits
from inspector.jobs.versions_job import VersionsJob
from inspector.report import Report
from inspector.store.runs import RunStore, SavedRun, data_dir
from inspector.ui.plain import plain

if TYPE_CHECKING:
    pass

T = TypeVar("T")


@st.cache_resource
def policy() -> Policy:
    """The operator's settings (INSPECTOR_CONFIG); PolicyError names a wrong key."""
    return load_policy()


def _or_error(load: Callable[[], T]) -> T | None:
    """``load()``, or None after showing its typed error instead of the page."""
    try:
        return load()
    except InspectorError as exc:
        st.error(f"{exc.type}: {plain(exc.message)}")
        return None


def policy_or_error() -> Policy | None:
    """The settings, or None after showing what is wrong with them."""
    return _or_error(policy)


@st.cache_resource
def executor() -> Executor:
    """One warm worker pool per server process, shared by every session: the settings' worker
    count (or INSPECTOR_WORKERS; each worker holds ~1 GB; with INSPECTOR_EXECUTOR=ray, per
    node of the cluster), users served in turn."""
    settings = policy()
    workers = int(os.environ.get("INSPECTOR_WORKERS", settings.workers))
    spares = int(os.environ.get("INSPECTOR_SPARES", settings.spares))
    return backends.start(workers=workers, jobs_per_user=settings.jobs_per_user,
                          hidden=_hidden_paths(settings), spares=spares)


class _VersionPools:
    """The pools of added TensorFlow versions, one per environment as installed. A version
    removed, or removed and added again, has its pool closed: its warm worker ran the deleted
    files (it stayed, ~500 MB, and the first job after a re-add failed to import Keras's
    modules; found in a walk)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[str, tuple[tuple[str, int], Executor]] = {}

    def get(self, environment: versions.Environment, start: Callable[[], Executor]) -> Executor:
        key = versions.stamp(environment)
        with self._lock:
            kept = self._pools.get(environment.version)
            if kept is not None and kept[0] == key:
                return kept[1]
            pool = start()
            self._pools[environment.version] = (key, pool)
        if kept is not None:
            kept[1].close()
        return pool

    def prune(self, fingerprint: tuple[Any, ...]) -> None:
        """Close the pools whose install is not in ``versions.fingerprint()`` any more."""
        present = set(fingerprint[0])
        with self._lock:
            gone = [v for v, (key, _) in self._pools.items() if key not in present]
            closing = [self._pools.pop(v)[1] for v in gone]
        for pool in closing:
            pool.close()


@st.cache_resource
def _version_pools() -> _VersionPools:
    return _VersionPools()


def version_pool(version: str) -> Executor:
    """A pool of one worker for an added TensorFlow (versions add), started on first use and
    kept while that install is: its jobs wait in turn there, beside the main pool's, and run
    within the main pool's worker count (at most that many jobs at once, whatever their
    version); its timed calls take turns with the main pool's (neither times the other's
    load)."""
    settings = policy()
    environment = next((e for e in _environments(str(versions.folder()), versions.fingerprint())
                        if e.version == version and not e.default), None)
    if environment is None:
        raise UsageError(f"TensorFlow {version} is not installed on this server")
    return _version_pools().get(environment, lambda: backends.start(
        workers=1, jobs_per_user=settings.jobs_per_user, hidden=_hidden_paths(settings),
        environment=environment, turns_with=executor()))


def installed_versions() -> list[str]:
    """The TensorFlow versions workers can run here, the server's own first (none listed when
    the package metadata cannot say: the page then offers no choice). Pools of added versions
    no longer installed as they were are closed."""
    fingerprint = versions.fingerprint()
    _version_pools().prune(fingerprint)
    return [e.version for e in _environments(str(versions.folder()), fingerprint)]


@st.cache_data(max_entries=4, show_spinner=False)
def _environments(folder: str, fingerprint: tuple[Any, ...]) -> tuple[versions.Environment, ...]:
    """Cached until the versions change (``versions.fingerprint``): reading the package
    metadata took 16-70 ms, on every rerun of the Inspect page at first, then (kept a minute)
    on the first click after a minute of reading a report, before its job could start."""
    try:
        return tuple(versions.installed())
    except InspectorError:
        return ()


def executor_or_error() -> Executor | None:
    """The pool, or None after showing why it cannot start (an unknown INSPECTOR_EXECUTOR, a
    Ray cluster that cannot be reached)."""
    return _or_error(executor)


def expect_job() -> None:
    """A click that asks for a job (Inspect, Re-run): this machine's workers that are importing
    TensorFlow stand still from now on (jobs/imports.py), not only once the job begins. On Ray
    the hold does not reach the nodes: their imports stand still from the job's start."""
    try:
        expect = getattr(executor(), "expect_job", None)
    except InspectorError:  # the page shows why the pool cannot start
        return
    if expect is not None:
        expect()


def _hidden_paths(settings: Policy) -> tuple[Path, ...]:
    """What the sandbox must cover even if a read-only bind would show it."""
    data = store_settings(settings)[1]
    paths = [Path(data) if data else data_dir(), _ROOT / ".streamlit", Path(".streamlit").resolve()]
    if settings.path:
        paths.append(Path(settings.path).resolve())
    if os.environ.get(SECRETS_ENV):
        paths.append(Path(os.environ[SECRETS_ENV]))
    return tuple(paths)


@st.cache_data(ttl=600, show_spinner="Waiting for a worker to list its devices ...")
def devices() -> tuple[list[str], list[dict[str, Any]], str | None]:
    """The workers' devices, each node's (host, TensorFlow, devices), or why there are none
    (cached too: a pool that cannot start should not make every rerun wait for it)."""
    try:
        pool = executor()
        return list(pool.devices()), backends.nodes(pool), None
    except InspectorError as exc:
        return [], [], f"{exc.type}: {exc.message}"


# How often a long-running server applies the settings' [retention] (also once at start).
RETENTION_EVERY_S = 3600.0


@st.cache_resource
def store() -> RunStore:
    """The run store the settings name ([store], else INSPECTOR_DB / INSPECTOR_DATA); StoreError
    when it cannot open. Opened once per server: runs left running by a killed server become
    interrupted, orphaned artifacts are swept, and the settings' [retention] is applied now
    and every RETENTION_EVERY_S while the server runs."""
    settings = policy()
    runs = open_store(settings, maintain=True)
    if settings.keep_days is not None or settings.max_gb is not None:
        runs.prune(settings.keep_days, settings.max_gb)
        threading.Thread(target=_retention, args=(runs, settings), daemon=True,
                         name="retention").start()
    return runs


def _retention(runs: RunStore, settings: Policy) -> None:
    while True:
        time.sleep(RETENTION_EVERY_S)
        try:
            runs.prune(settings.keep_days, settings.max_gb)
        except Exception as exc:  # a database that is briefly down: try again next time
            print(f"retention failed, retrying in {RETENTION_EVERY_S:g} s: {exc}")


def store_or_error() -> RunStore | None:
    """The store, or None after showing why it cannot open."""
    return _or_error(store)


@st.cache_resource(max_entries=8, show_spinner="Reading the run from the store ...")
def _finished_run(run_id: str) -> SavedRun:
    return store().get(run_id)


def saved_run(run_id: str, user: User = LOCAL) -> SavedRun:
    """A saved run from the store, if ``user`` may see it (RunNotFound otherwise). Finished
    runs are kept in memory (their results never change), so widget reruns and the pictures'
    caches (keyed by the report object) reuse them; a running one is read anew."""
    summary = store().summary(run_id, viewer=user.key, admin=user.admin)
    if summary.status == "running":
        return store().get(run_id)
    return _finished_run(run_id)


def forget_run(run_id: str, user: User = LOCAL) -> None:
    """Delete a run (its owner or an admin: NotAllowed otherwise) and drop the cached copy."""
    store().delete(run_id, by=user.key, admin=user.admin)
    _finished_run.clear()


def saved_run_cache_clear() -> None:
    """After a run's row changed (its visibility): cached copies are stale."""
    _finished_run.clear()


# Benchmarks set this to "query" to act as several users without a provider (``?as=NAME``);
# never honoured on a hosted dashboard.
TEST_IDENTITY_ENV = "INSPECTOR_TEST_IDENTITY"
_ROOT = Path(__file__).resolve().parents[2]


def _auth_section() -> dict[str, Any] | None:
    """The [auth] section of the secrets, or None (no secrets file, or no [auth])."""
    try:
        section: Any = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return None
    if section is None:
        return None
    return section.to_dict() if hasattr(section, "to_dict") else dict(section)


def current_user() -> User:
    """The signed-in user, after the policy's checks; with no [auth] section, ``local``.

    Shows the sign-in page (or why this user may not use the dashboard) and stops the page
    while there is none.
    """
    section = _auth_section()
    hosted = bool(os.environ.get(HOSTED_ENV))
    if section is None and hosted:
        return _open_or_refused()
    if section is None and os.environ.get(TEST_IDENTITY_ENV) == "query" and "as" in st.query_params:
        # Test hook (never set in production): many users in local mode, for load benchmarks.
        name = st.query_params["as"]
        return User(f"test|{name}", name, None, False)
    if section is None:
        if not st.session_state.get("said_local"):
            st.session_state["said_local"] = True
            st.sidebar.caption("Local single-user mode: no sign-in, every run is local's.")
        return LOCAL
    try:
        check_auth(section)
    except PolicyError as exc:
        st.error(f"Sign-in is misconfigured: {plain(exc)}")
        st.stop()
    settings = policy()
    if not st.user.is_logged_in:
        st.title("TensorFlow graph optimization inspector")
        st.write("This dashboard is for the team: sign in with your account.")
        st.button("Sign in", key="sign_in", type="primary", on_click=st.login,
                  args=(provider_name(section),) if provider_name(section) else ())
        st.stop()
    claims = st.user.to_dict()
    email = claims.get("email")
    user = from_claims(claims, settings.is_admin(email if isinstance(email, str) else None))
    if not settings.allows(user.email):
        st.error(f"You are signed in as {plain(user.email or user.name)}, which this dashboard does "
                 "not admit (ask its operator to add your address or domain). Nothing runs.")
        st.button("Sign out", key="sign_out_refused", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as **{plain(user.name)}**{' (admin)' if user.admin else ''}")
        st.button("Sign out", key="sign_out", on_click=st.logout)
    return user


def _open_or_refused() -> User:
    """A hosted dashboard without sign-in: open only when the operator said so."""
    settings = policy()
    if not settings.open_access:
        st.title("TensorFlow graph optimization inspector")
        st.error("This dashboard has no working sign-in, so it admits no one. Its operator must "
                 "give `serve` a secrets file with an [auth] section (or set [access] open = "
                 "true in the settings for a dashboard without sign-in).")
        st.stop()
    st.sidebar.warning("Open dashboard: no sign-in ([access] open = true). Everyone who "
                       "reaches it is the same user and sees, re-runs and deletes every run.")
    return LOCAL


# How long a finished run's save waits for the page to draw its report (a page that is gone
# or busy elsewhere does not hold it longer).
DRAW_BEFORE_SAVE_S = 2.0


class SavedJob:
    """A job whose run is in the store from submission on; saved by a thread when it ends,
    while the page draws its report."""

    def __init__(self, job: JobHandle, run_id: str, runs: RunStore):
        self.job = job
        self.run_id = run_id
        self.saved = threading.Event()
        self.save_error: str | None = None  # why the finished run is not in the store
        self._ended_at: float | None = None
        self._drawn = threading.Event()
        threading.Thread(target=self._save, args=(runs,), daemon=True,
                         name=f"save-{run_id}").start()

    def _save(self, runs: RunStore) -> None:
        try:
            report = self.job.result()
            self._ended_at = time.monotonic()
            # The page's drawing first: the save's encoding is Python holding the GIL, and
            # beside it ResNet50's report took 0.33 s to draw instead of 0.03 s.
            self._drawn.wait(DRAW_BEFORE_SAVE_S)
            runs.finish(self.run_id, report, log=self.job.log)
        except InspectorError as exc:  # StoreError; RunNotFound when deleted meanwhile
            self.save_error = f"{exc.type}: {exc.message}"
        finally:
            self.saved.set()

    def drawn(self) -> None:
        """The page has drawn the report: the save may take the CPU now."""
        self._drawn.set()

    def report(self) -> Report:
        """The finished job's report, with its run id; its save goes on beside."""
        return dataclasses.replace(self.job.result(), run_id=self.run_id)

    def waited_ms(self) -> float:
        """How long the finished job's report waited for the page to ask for it (a poll)."""
        ended = self._ended_at
        return (time.monotonic() - ended) * 1e3 if ended is not None else 0.0

    def save_status(self, timeout: float = 30.0) -> str:
        """"saved", or why the run is not (yet) in the store, once its save ended or
        ``timeout`` passed ("saving" for 0: not waiting)."""
        if not self.saved.wait(timeout):
            return "saving" if timeout <= 0 else "still saving: see History"
        return "saved" if self.save_error is None else f"not saved: {plain(self.save_error)}"


def submit(request: InspectRequest, limits: Limits, user: User = LOCAL,
           visibility: str = "team", tf_versions: Sequence[str] = ()) -> SavedJob:
    """Queue a request on the pool (users in turn) and keep it as a run (status running until
    it ends). ``tf_versions``: run it on each of these TensorFlow versions in turn (default:
    the server's own only)."""
    runs = store()
    request = runs.with_model_file(request)  # an upload run before: a copy, not its bytes
    job: JobHandle
    own = installed_versions()[:1] if tf_versions else []
    if tf_versions and list(tf_versions) != own:
        pools = [(v, executor() if [v] == own else version_pool(v)) for v in tf_versions]
        job = VersionsJob(request, limits, user.key, pools)
    else:
        job = executor().submit(request, limits, user=user.key)
    run_id = runs.start(request, dataclasses.asdict(limits), owner=user.key,
                        owner_name=user.name, visibility=visibility)
    return SavedJob(job, run_id, runs)


def run_url(run_id: str) -> str:
    """The link that opens a saved run: this server's address with ``?run=<id>``."""
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode({'run': run_id})}"
