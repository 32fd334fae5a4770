"""The run store: save an inspection, list and filter runs, load one, delete, prune.

A run is committed in one transaction after its artifacts are on disk, so a process killed at
any moment leaves either no row, a ``running`` row (shown as ``interrupted`` once its process
is gone), or a complete run; artifacts no row names are swept when a store opens.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from inspector.errors import NotAllowed, RunNotFound, StoreError, UsageError
from inspector.inputs.models import bytes_of, encode, stamp, unlocated
from inspector.inputs.request import InspectRequest
from inspector.report import Report
from inspector.store import DATA_ENV, DEFAULT_DATA, data_dir  # noqa: F401 (re-exported)
from inspector.store.artifacts import Artifacts
from inspector.store.models import run_tags, runs

DB_ENV = "INSPECTOR_DB"
VISIBILITIES = ("team", "private")
# SQLite waits this long for another writer (8 concurrent CLI saves must never see "database
# is locked").
SQLITE_BUSY_MS = 30_000
_MIGRATIONS = Path(__file__).parent / "migrations"
# Every revision in migrations/versions, oldest first; the last is this code's schema (a test
# checks this list against Alembic's own).
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004")
SCHEMA_HEAD = SCHEMA_REVISIONS[-1]


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """One row of the History table."""

    id: str
    status: str
    # "<iss>|<sub>" (or "local") and how to show it.
    owner: str
    owner_name: str
    # "team" or "private".
    visibility: str
    title: str | None
    function: str
    source_label: str
    modes: tuple[str, ...]
    tensorflow: str | None
    device: str | None
    created_at: dt.datetime
    duration_s: float | None
    # Post-Grappler nodes per mode.
    post_nodes: dict[str, int]
    tags: tuple[str, ...]
    error_type: str | None
    size_bytes: int


@dataclass(frozen=True)
class SavedRun:
    """A run with everything needed to show it again without a worker."""

    summary: RunSummary
    source_text: str
    # InspectRequest.to_dict() and the Limits as saved.
    request: dict[str, Any]
    limits: dict[str, Any]
    executor: str
    finished_at: dt.datetime | None
    # The report as the inspection produced it (graphs included), with run_id set; None while
    # the run is running or when it was interrupted.
    report: Report | None
    # The worker's log (the user's prints, TensorFlow's C++ log); empty when none was kept.
    log: str = ""


@dataclass(frozen=True)
class RunFilter:
    """History filters; None or empty means any."""

    function: str | None = None
    owner: str | None = None
    # The owner as shown (name or email).
    owner_name: str | None = None
    status: str | None = None
    tensorflow: str | None = None
    tag: str | None = None
    # Only runs created on or after / before these moments.
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # Text in the title or the source.
    text: str | None = None
    # Who looks: private runs of others are left out (None: the operator's CLI sees all).
    viewer: str | None = None
    viewer_is_admin: bool = False
    # Only the viewer's own runs ("mine").
    mine: bool = False


def store_url(data: Path | None = None) -> str:
    """INSPECTOR_DB, else a SQLite file in the data folder."""
    return os.environ.get(DB_ENV) or f"sqlite:///{(data or data_dir()) / 'runs.db'}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _safe(url: str | URL) -> str:
    """The URL as users may see it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one process writes; foreign keys make tag rows follow their
    # run; busy_timeout makes concurrent writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def _engine(url: str, source: str = DB_ENV) -> Engine:
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:
        raise StoreError(f"cannot use the store URL {_safe(url)} (from {source}): {exc}; make "
                         "it a SQLAlchemy URL such as sqlite:////path/runs.db or "
                         "postgresql+psycopg://user@host/db") from None


def _current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: a new database)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _migrate(engine: Engine, url: str, source: str = DB_ENV, dry_run: bool = False) -> str:
    """Bring the schema to this code's head; refuse a schema newer than this code. Alembic
    loads only when there is something to do (it is most of a CLI call's start-up).

    Returns what was (or, with ``dry_run``, would be) done, for ``serve --check``.
    """
    try:
        current = _current_revision(engine)
        if current == SCHEMA_HEAD:
            return f"schema {SCHEMA_HEAD}, current"
        if current is not None and current not in SCHEMA_REVISIONS:
            raise StoreError(
                f"the store {_safe(url)} (from {source}) has schema {current}, newer than this "
                "version of the inspector knows; upgrade the inspector, or point it at "
                "another store")
        plan = f"schema {current or 'none'} -> {SCHEMA_HEAD}"
        if dry_run:
            return f"{plan} on the first start (not migrated by --check)"
        from alembic import command
        from alembic.config import Config

        config = Config(str(_MIGRATIONS / "alembic.ini"))
        config.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return f"{plan}, migrated"
    except StoreError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot open the store {_safe(url)} (from {source}): {reason}; check "
                         "that the database server runs and the URL (user, password, host, "
                         "database) is right") from None


def _missing_sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL when it does not exist yet (else None)."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def check_store(url: str | None, data: Path | None, source: str = DB_ENV) -> str:
    """Connect to a store and say what opening it would do to its schema, changing nothing
    (``serve --check``); StoreError naming ``source`` when it cannot be opened."""
    url = url or store_url(data)
    missing = _missing_sqlite_file(url)
    if missing is not None:
        return f"{_safe(url)}: a new SQLite store, made with schema {SCHEMA_HEAD} on the first start"
    engine = _engine(url, source)
    try:
        return f"{_safe(url)}: {_migrate(engine, url, source, dry_run=True)}"
    finally:
        engine.dispose()


def _alive(host: str, pid: int) -> bool:
    """Whether the process that owns a running row still exists (only this host can tell)."""
    return host != socket.gethostname() or psutil.pid_exists(pid)


def new_run_id() -> str:
    """11 URL-safe characters, never starting with "-" (`history show -xY...` read it as an
    option; a test hit it, 1 id in 64). Drawn again rather than stripped: a stripped id was
    10 characters, and pages and links expect 11."""
    while (run_id := secrets.token_urlsafe(8)).startswith("-"):
        pass
    return run_id


class RunStore:
    """Saved runs in one database and one artifacts folder."""

    def __init__(self, url: str | None = None, data: Path | None = None, *,
                 maintain: bool = False, source: str = DB_ENV, create: bool = True):
        """Open (and migrate) a store; running rows whose process is gone become interrupted.

        ``maintain``: also sweep artifacts no row names (a long-lived server at start; short
        CLI calls skip the walk over every file). ``source``: where the URL came from, for
        messages. ``create``: False for commands that only read or remove runs, which must not
        make an empty store where a path is mistyped (StoreError instead).
        """
        self.data = data or data_dir()
        self.url = url or store_url(self.data)
        missing = None if create else _missing_sqlite_file(self.url)
        if missing is not None:
            raise StoreError(f"there is no store at {missing} (from {source}); check the path, "
                             "or save a run there first (inspect --save)")
        self.engine = _engine(self.url, source)
        _migrate(self.engine, self.url, source)
        self.artifacts = Artifacts(self.data / "artifacts")
        self.mark_interrupted()
        if maintain:
            self.sweep()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def safe_url(self) -> str:
        return _safe(self.url)

    # -- writing ------------------------------------------------------------------------------
    def start(self, request: InspectRequest, limits: dict[str, Any], *, owner: str = "local",
              owner_name: str | None = None, visibility: str = "team",
              title: str | None = None, tags: Sequence[str] = (),
              executor: str = "local") -> str:
        """A ``running`` row for a request about to run; returns the run's id."""
        if visibility not in VISIBILITIES:
            raise UsageError(f"visibility must be one of {VISIBILITIES}")
        run_id = new_run_id()
        stored, model_sha = self._model_out(request.to_dict())
        row = dict(id=run_id, status="running", owner=owner, owner_name=owner_name or owner,
                   visibility=visibility, title=title or None,
                   function=request.function, source_label=request.source_label,
                   source_text=request.source.text, request=stored, limits=limits,
                   modes=list(request.modes), executor=executor, created_at=_now(),
                   size_bytes=0, host=socket.gethostname(), pid=os.getpid(),
                   model_sha=model_sha)
        with self.engine.begin() as connection:
            connection.execute(runs.insert().values(**row))
            unique_tags = sorted({t.strip() for t in tags if t.strip()})
            if unique_tags:
                connection.execute(run_tags.insert(),
                                   [{"run_id": run_id, "tag": t} for t in unique_tags])
        return run_id

    def _model_out(self, request: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The request as stored: a model's bytes put under artifacts/ (once per content) and
        named by their sha256 instead of held in the row."""
        model = (request.get("source") or {}).get("model")
        if not model or not model.get("data"):
            return request, None
        sha = self.artifacts.put(bytes_of(model))
        source = {**request["source"], "model": {**unlocated(model), "data": None,
                                                 "artifact": sha}}
        return {**request, "source": source}, sha

    def _model_in(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request as the run had it: the model's bytes read back from artifacts/."""
        model = (request.get("source") or {}).get("model")
        if not model or model.get("data") or not model.get("artifact"):
            return request
        data = encode(self.artifacts.get(model["artifact"]), model["artifact"])
        return {**request, "source": {**request["source"], "model": {
            **unlocated(model), "data": data, **self.model_location(model["artifact"])}}}

    def with_model_file(self, request: InspectRequest) -> InspectRequest:
        """A request whose model's bytes this store already keeps (an earlier run of the same
        upload), with that file's location, so a worker here is given a copy of it rather than
        its bytes in the job's message; else as it is (nothing is written for an upload that
        is never run)."""
        model = request.source.model
        if not model or model.get("path") or not self.artifacts.path(model["sha256"]).is_file():
            return request
        located = {**model, **self.model_location(model["sha256"])}
        return dataclasses.replace(request, source=dataclasses.replace(request.source,
                                                                       model=located))

    def model_location(self, sha: str) -> dict[str, Any]:
        """The model dict's "path" and "stamp" for the artifact ``sha``."""
        path = self.artifacts.path(sha)
        return {"path": str(path), "stamp": stamp(path)}

    def finish(self, run_id: str, report: Report, status: str | None = None,
               log: str = "") -> None:
        """Store the report's artifacts (and the worker's ``log``), then complete the row in
        one transaction. Raises StoreError when the disk or the database refuses (a full
        disk, a lost connection): the inspection's report is still the caller's to show."""
        try:
            self._finish(run_id, report, status, log)
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            raise StoreError(f"saving run {run_id} failed: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc

    def _finish(self, run_id: str, report: Report, status: str | None, log: str) -> None:
        status = status or ("failed" if report.error or report.failed_modes else "done")
        if report.error is not None and report.error.type == "Cancelled":
            status = "cancelled"
        graphs: dict[str, dict[str, str]] = {}
        size = 0
        for result in report.results:
            for side, data in (result.graphs or {}).items():
                sha = self.artifacts.put(data)
                graphs.setdefault(result.mode, {})[side] = sha
                size += len(data)
        body = gzip.compress(dataclasses.replace(report, run_id=run_id).to_json(
            include_graphs=False, indent=None).encode(), compresslevel=6)
        report_sha = self.artifacts.put(body)
        size += len(body)
        log_sha = None
        if log:
            packed = gzip.compress(log.encode("utf-8", "replace"), compresslevel=6)
            log_sha = self.artifacts.put(packed)
            size += len(packed)
        finished = _now()
        with self.engine.begin() as connection:
            found = connection.execute(sa.select(runs.c.created_at, runs.c.model_sha)
                                       .where(runs.c.id == run_id)).one_or_none()
            if found is None:
                raise RunNotFound(f"no run {run_id!r} to finish (was it deleted?)")
            created, model_sha = found
            if model_sha:  # the model is the run's too (shared ones counted in each run)
                size += self.artifacts.size(model_sha)
            if created.tzinfo is None:  # SQLite hands naive datetimes back
                created = created.replace(tzinfo=dt.UTC)
            connection.execute(runs.update().where(runs.c.id == run_id).values(
                status=status, tensorflow=report.tensorflow, device=report.device,
                finished_at=finished, duration_s=(finished - created).total_seconds(),
                report_sha=report_sha, log_sha=log_sha, graphs=graphs,
                post_nodes={r.mode: r.post.nodes for r in report.results if r.post},
                error_type=(report.error.type if report.error else
                            next((r.error.type for r in report.results if r.error), None)),
                size_bytes=size))

    def save(self, request: InspectRequest, limits: dict[str, Any], report: Report,
             **meta: Any) -> str:
        """Start and finish at once (a report made before the store was involved)."""
        run_id = self.start(request, limits, **meta)
        self.finish(run_id, report)
        return run_id

    def _check_owner(self, run_id: str, by: str | None, admin: bool) -> None:
        """NotAllowed unless ``by`` owns the run or is an admin (None: the operator's CLI)."""
        if by is None or admin:
            return
        with self.engine.connect() as connection:
            owner = connection.execute(sa.select(runs.c.owner).where(runs.c.id == run_id)
                                       ).scalar_one_or_none()
        if owner is None:
            raise RunNotFound(f"no saved run {run_id!r}; `history list` shows the ids")
        if owner != by:
            raise NotAllowed(f"run {run_id} is not yours: only its owner or an admin may "
                             "delete it or change its visibility")

    def set_visibility(self, run_id: str, visibility: str, by: str | None = None,
                       admin: bool = False) -> None:
        if visibility not in VISIBILITIES:
            raise UsageError(f"visibility must be one of {VISIBILITIES}")
        self._check_owner(run_id, by, admin)
        with self.engine.begin() as connection:
            connection.execute(runs.update().where(runs.c.id == run_id)
                               .values(visibility=visibility))

    def delete(self, run_id: str, by: str | None = None, admin: bool = False) -> None:
        """Delete a run: its owner or an admin (``by`` None: the operator's CLI)."""
        self._check_owner(run_id, by, admin)
        with self.engine.begin() as connection:
            connection.execute(run_tags.delete().where(run_tags.c.run_id == run_id))
            if connection.execute(runs.delete().where(runs.c.id == run_id)).rowcount == 0:
                raise RunNotFound(f"no saved run {run_id!r}; `history list` shows the ids")
        self.sweep()

    def mark_interrupted(self) -> int:
        """Running rows whose process is gone (a server or CLI killed mid-job)."""
        with self.engine.begin() as connection:
            rows = connection.execute(sa.select(runs.c.id, runs.c.host, runs.c.pid)
                                      .where(runs.c.status == "running")).all()
            gone = [row.id for row in rows if not _alive(row.host, row.pid)]
            if gone:
                connection.execute(runs.update().where(runs.c.id.in_(gone))
                                   .values(status="interrupted"))
        return len(gone)

    def sweep(self) -> int:
        """Remove artifacts no row names (left by a process killed between writing its files
        and committing its row, or by deleted runs). Returns how many were removed."""
        with self.engine.connect() as connection:
            referenced: set[str | None] = set()
            for report_sha, log_sha, graphs, model_sha in connection.execute(
                    sa.select(runs.c.report_sha, runs.c.log_sha, runs.c.graphs,
                              runs.c.model_sha)):
                referenced.update((report_sha, log_sha, model_sha))
                referenced.update(sha for sides in (graphs or {}).values()
                                  for sha in sides.values())
            running = connection.execute(sa.select(sa.func.count()).select_from(runs)
                                         .where(runs.c.status == "running")).scalar_one()
        removed = 0
        for name, path in list(self.artifacts.all()):
            # While a run is running here its files may be written but not yet named: keep
            # those that are recent.
            young = running and path.stat().st_mtime > _now().timestamp() - 3600
            if name not in referenced and not young:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def prune(self, keep_days: float | None = None, max_gb: float | None = None) -> list[str]:
        """Delete finished runs older than ``keep_days``, then the oldest until the runs' total
        size is under ``max_gb``. Returns the deleted ids."""
        doomed: list[str] = []
        finished = runs.c.status != "running"
        with self.engine.connect() as connection:
            if keep_days is not None:
                cutoff = _now() - dt.timedelta(days=keep_days)
                doomed += connection.execute(sa.select(runs.c.id).where(
                    finished, runs.c.created_at < cutoff)).scalars().all()
            if max_gb is not None:
                total = 0
                budget = max_gb * 2**30
                for run_id, size in connection.execute(
                        sa.select(runs.c.id, runs.c.size_bytes).where(finished)
                        .order_by(runs.c.created_at.desc())):
                    total += size
                    if total > budget and run_id not in doomed:
                        doomed.append(run_id)
        if doomed:
            with self.engine.begin() as connection:
                connection.execute(run_tags.delete().where(run_tags.c.run_id.in_(doomed)))
                connection.execute(runs.delete().where(runs.c.id.in_(doomed)))
            self.sweep()
        return doomed

    # -- reading ------------------------------------------------------------------------------
    def _where(self, filters: RunFilter) -> list[Any]:
        clauses: list[Any] = []
        for column, value in ((runs.c.function, filters.function), (runs.c.owner, filters.owner),
                              (runs.c.owner_name, filters.owner_name),
                              (runs.c.status, filters.status),
                              (runs.c.tensorflow, filters.tensorflow)):
            if value:
                clauses.append(column == value)
        if filters.tag:
            clauses.append(runs.c.id.in_(sa.select(run_tags.c.run_id)
                                         .where(run_tags.c.tag == filters.tag)))
        if filters.since:
            clauses.append(runs.c.created_at >= filters.since)
        if filters.until:
            clauses.append(runs.c.created_at < filters.until)
        if filters.text:
            pattern = f"%{filters.text}%"
            clauses.append(sa.or_(runs.c.title.ilike(pattern),
                                  runs.c.source_text.ilike(pattern)))
        if filters.viewer is not None and not filters.viewer_is_admin:
            clauses.append(sa.or_(runs.c.visibility == "team", runs.c.owner == filters.viewer))
        if filters.mine and filters.viewer is not None:
            clauses.append(runs.c.owner == filters.viewer)
        return clauses

    def find(self, filters: RunFilter = RunFilter(), limit: int = 50,
             offset: int = 0) -> list[RunSummary]:
        """Runs newest first, one page (the database pages; nothing else is loaded)."""
        query = (sa.select(runs.c.id, runs.c.status, runs.c.owner, runs.c.owner_name,
                           runs.c.visibility, runs.c.title,
                           runs.c.function, runs.c.source_label, runs.c.modes,
                           runs.c.tensorflow, runs.c.device, runs.c.created_at,
                           runs.c.duration_s, runs.c.post_nodes, runs.c.error_type,
                           runs.c.size_bytes)
                 .where(*self._where(filters))
                 .order_by(runs.c.created_at.desc(), runs.c.id).limit(limit).offset(offset))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
            tags: dict[str, list[str]] = {}
            if rows:
                for run_id, tag in connection.execute(
                        sa.select(run_tags.c.run_id, run_tags.c.tag)
                        .where(run_tags.c.run_id.in_([r.id for r in rows]))
                        .order_by(run_tags.c.tag)):
                    tags.setdefault(run_id, []).append(tag)
        return [_summary(row, tags.get(row.id, ())) for row in rows]

    def count(self, filters: RunFilter = RunFilter()) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(runs)
                                      .where(*self._where(filters))).scalar_one()

    def values(self, column: str, viewer: str | None = None,
               admin: bool = False) -> list[str]:
        """The distinct values of a filterable column (functions, owners, versions, tags), over
        the runs ``viewer`` may see (another user's private run names nothing here; None: the
        operator's CLI sees all)."""
        visible = self._where(RunFilter(viewer=viewer, viewer_is_admin=admin))
        if column == "tag":
            query = (sa.select(run_tags.c.tag).join(runs, runs.c.id == run_tags.c.run_id)
                     .where(*visible).distinct().order_by(run_tags.c.tag))
        else:
            query = (sa.select(runs.c[column]).where(*visible).distinct()
                     .order_by(runs.c[column]))
        with self.engine.connect() as connection:
            return [v for v in connection.execute(query).scalars() if v]

    def _row(self, run_id: str, viewer: str | None, admin: bool) -> tuple[Any, list[str]]:
        """The run's row and tags; RunNotFound when there is none or ``viewer`` may not see it
        (another user's private run; None: the operator's CLI sees all)."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(runs).where(runs.c.id == run_id)).one_or_none()
            tags = connection.execute(sa.select(run_tags.c.tag).where(
                run_tags.c.run_id == run_id).order_by(run_tags.c.tag)).scalars().all()
        hidden = (row is not None and viewer is not None and not admin
                  and row.visibility == "private" and row.owner != viewer)
        if row is None or hidden:
            raise RunNotFound(f"no saved run {run_id!r} that you can see; History lists yours "
                              "and your team's")
        return row, list(tags)

    def summary(self, run_id: str, viewer: str | None = None,
                admin: bool = False) -> RunSummary:
        """The run's row only (no artifacts read): also the check that ``viewer`` may see it."""
        return _summary(*self._row(run_id, viewer, admin))

    def get(self, run_id: str, viewer: str | None = None, admin: bool = False) -> SavedRun:
        """A run with its report and graphs, read from the store (no worker); RunNotFound as
        ``summary`` says."""
        row, tags = self._row(run_id, viewer, admin)
        report = None
        if row.report_sha:
            report = Report.from_json(gzip.decompress(self.artifacts.get(row.report_sha)).decode())
            graphs = row.graphs or {}
            report = dataclasses.replace(report, results=tuple(
                dataclasses.replace(r, graphs={side: self.artifacts.get(sha) for side, sha
                                               in graphs[r.mode].items()})
                if r.mode in graphs else r for r in report.results))
        log = (gzip.decompress(self.artifacts.get(row.log_sha)).decode("utf-8", "replace")
               if row.log_sha else "")
        return SavedRun(_summary(row, tags), row.source_text, self._model_in(row.request),
                        row.limits, row.executor, _aware(row.finished_at), report, log)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite stores no zone: it is UTC
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _summary(row: Any, tags: Sequence[str]) -> RunSummary:
    created = _aware(row.created_at)
    assert created is not None
    return RunSummary(id=row.id, status=row.status, owner=row.owner, owner_name=row.owner_name,
                      visibility=row.visibility, title=row.title, function=row.function,
                      source_label=row.source_label, modes=tuple(row.modes or ()),
                      tensorflow=row.tensorflow, device=row.device, created_at=created,
                      duration_s=row.duration_s, post_nodes=dict(row.post_nodes or {}),
                      tags=tuple(tags), error_type=row.error_type,
                      size_bytes=row.size_bytes or 0)

