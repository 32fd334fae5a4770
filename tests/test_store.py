"""The run store on a real SQLite file and a real PostgreSQL server: saving, finding, loading,
deleting, pruning, typed errors, concurrent writers and processes killed with SIGKILL."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from inspector.errors import RunNotFound, StoreError
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source, read_source
from inspector.report import GraphSummary, ModeResult, Report
from inspector.store.runs import RunFilter, RunStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # each test starts from an empty schema
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def _request(function_name: str = "f", text: str | None = None):
    code = text or f"import tensorflow as tf\n\ndef {function_name}(x):\n    return x * 2\n"
    return prepare(Source(code, "pasted.py"), function_name, ["float32[4]"], ["spec"])


def _report(nodes: int, graph: bytes = b"pre-graph", mode: str = "spec") -> Report:
    result = ModeResult(mode, traces=1, post=GraphSummary(nodes, {"Mul": 1}),
                        graphs={"pre": graph, "post": graph + b"-post"})
    return Report(tensorflow="2.21.0", function="f", device="/device:CPU:0", modes=(mode,),
                  results=(result,))


def test_a_saved_run_loads_back_with_its_graphs(store_url, tmp_path):
    store = RunStore(store_url, tmp_path / "data")
    run_id = store.save(_request(), {"timeout_s": 60.0}, _report(3), title="first",
                        tags=["x", "y", "x"])
    saved = store.get(run_id)
    assert saved.summary.status == "done" and saved.summary.tags == ("x", "y")
    assert saved.report is not None and saved.report.run_id == run_id
    assert saved.report.results[0].graphs == {"pre": b"pre-graph", "post": b"pre-graph-post"}
    assert saved.report.results[0].post.nodes == 3 and saved.summary.post_nodes == {"spec": 3}
    assert saved.request["function"] == "f" and "return x * 2" in saved.source_text
    assert len(run_id) <= 16 and run_id.replace("-", "").replace("_", "").isalnum()
    store.close()


def test_a_full_disk_while_saving_is_a_store_error_and_the_row_stays_running(tmp_path,
                                                                            monkeypatch):
    """Saving a finished run writes artifacts: a refused write is a typed StoreError (the
    CLI then still writes the report), not a traceback, and the row is left as it was."""
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path / "data")
    run_id = store.start(_request(), {})

    def full(data: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.artifacts, "put", full)
    with pytest.raises(StoreError, match=f"saving run {run_id} failed: OSError: .*No space"):
        store.finish(run_id, _report(3))
    assert store.get(run_id).summary.status == "running"
    store.close()


def test_identical_graphs_are_stored_once(store_url, tmp_path):
    store = RunStore(store_url, tmp_path / "data")
    for _ in range(3):
        store.save(_request(), {}, _report(3, graph=b"the same graph" * 1000))
    blobs = [p for _, p in store.artifacts.all()]
    # Two graph files shared by the three runs, plus each run's own report.
    assert len([p for p in blobs if p.stat().st_size >= 14_000]) == 2
    assert len(blobs) == 2 + 3
    store.close()


def test_find_filters_and_pages_in_the_database(store_url, tmp_path):
    store = RunStore(store_url, tmp_path / "data")
    ids = []
    for number in range(7):
        name = "g" if number % 2 else "f"
        request = _request(name, f"def {name}(x):\n    return x  # marker{number}\n")
        ids.append(store.save(request, {}, _report(number), title=f"run {number}",
                              tags=["odd"] if number % 2 else []))
    newest_first = list(reversed(ids))
    assert [r.id for r in store.find(limit=3)] == newest_first[:3]
    assert [r.id for r in store.find(limit=3, offset=3)] == newest_first[3:6]
    assert store.count() == 7 and store.count(RunFilter(function="g")) == 3
    assert {r.id for r in store.find(RunFilter(tag="odd"))} == set(ids[1::2])
    assert [r.id for r in store.find(RunFilter(text="marker4"))] == [ids[4]]
    assert [r.id for r in store.find(RunFilter(text="RUN 5"))] == [ids[5]]  # title, any case
    assert store.count(RunFilter(since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))) == 0
    assert store.values("function") == ["f", "g"] and store.values("tag") == ["odd"]
    store.close()


def test_delete_prune_and_unknown_ids(store_url, tmp_path):
    store = RunStore(store_url, tmp_path / "data")
    keep = store.save(_request(), {}, _report(1, graph=b"a" * 50_000))
    old = store.save(_request(), {}, _report(2, graph=b"b" * 50_000))
    with store.engine.begin() as connection:  # make one run ten days old
        connection.execute(sa.text("UPDATE runs SET created_at = :t WHERE id = :i"),
                           {"t": dt.datetime.now(dt.UTC) - dt.timedelta(days=10), "i": old})
    assert store.prune(keep_days=5) == [old]
    with pytest.raises(RunNotFound):
        store.get(old)
    assert store.get(keep).report is not None
    # The pruned run's own artifacts are gone; the kept run's remain.
    assert all(name != "" for name, _ in store.artifacts.all())
    assert len(list(store.artifacts.all())) == 3
    newer = store.save(_request(), {}, _report(3, graph=b"c" * 50_000))
    assert store.prune(max_gb=120_000 / 2**30) == [keep]  # only the newest fits
    store.delete(newer)
    assert store.count() == 0 and list(store.artifacts.all()) == []
    with pytest.raises(RunNotFound, match="history list"):
        store.delete(newer)
    store.close()


def test_a_store_that_cannot_open_is_a_store_error_naming_the_url_without_password(tmp_path):
    with pytest.raises(StoreError, match=r"postgresql\+psycopg://me:\*\*\*@127.0.0.1:1/x"):
        RunStore("postgresql+psycopg://me:secret@127.0.0.1:1/x", tmp_path)
    with pytest.raises(StoreError, match="SQLAlchemy URL"):
        RunStore("nonsense://", tmp_path)


def test_a_newer_schema_is_refused(store_url, tmp_path):
    RunStore(store_url, tmp_path / "data").close()
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this version"):
        RunStore(store_url, tmp_path / "data")


_WRITER = """
import sys, itertools
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.report import GraphSummary, ModeResult, Report
from inspector.store.runs import RunStore

store = RunStore(sys.argv[1])
request = prepare(Source("def f(x):\\n    return x\\n", "p.py"), "f", ["float32[4]"], ["spec"])
count = int(sys.argv[2])
for number in itertools.count() if count < 0 else range(count):
    # Fresh large graphs each time, so a kill lands inside artifact writes too.
    graph = bytes([number % 251]) * 2_000_000 + str(number).encode()
    result = ModeResult("spec", post=GraphSummary(number, {}), graphs={"pre": graph,
                                                                       "post": graph[::-1]})
    run_id = store.start(request, {})
    store.finish(run_id, Report(tensorflow="2.21.0", function="f", results=(result,)))
    print(run_id, flush=True)
"""


def _writer(url: str, data: Path, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, url, str(count)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "INSPECTOR_DATA": str(data)})


def test_kill_9_at_any_moment_leaves_a_consistent_store(store_url, tmp_path):
    data = tmp_path / "data"
    RunStore(store_url, data).close()
    for delay in (0.3, 0.7, 1.1, 1.6):
        writer = _writer(store_url, data, -1)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    store = RunStore(store_url, data, maintain=True)  # as a server starts: marks, sweeps
    runs = store.find(limit=1000)
    assert runs, "the writers saved something before they were killed"
    assert {r.status for r in runs} <= {"done", "interrupted"}
    referenced = set()
    for run in runs:
        saved = store.get(run.id)
        if run.status == "done":  # every listed finished run is whole
            assert saved.report is not None and saved.report.results[0].graphs["pre"]
            with store.engine.connect() as connection:
                row = connection.execute(sa.text("SELECT report_sha, graphs FROM runs WHERE "
                                                 "id = :i"), {"i": run.id}).one()
            referenced |= {row.report_sha, *(s for sides in (row.graphs if isinstance(
                row.graphs, dict) else __import__("json").loads(row.graphs)).values()
                for s in sides.values())}
    on_disk = {name for name, _ in store.artifacts.all()}
    assert on_disk == referenced, "no orphaned or half-written artifacts after the sweep"
    store.close()


def test_concurrent_writers_on_sqlite_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    data = tmp_path / "data"
    RunStore(url, data).close()
    writers = [_writer(url, data, 4) for _ in range(8)]
    outputs = [w.communicate(timeout=300)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers), "no 'database is locked'"
    ids = {line for out in outputs for line in out.split()}
    store = RunStore(url, data)
    assert len(ids) == 32 and {r.id for r in store.find(limit=100)} == ids
    assert all(r.status == "done" for r in store.find(limit=100))
    store.close()


@pytest.mark.worker
def test_cli_saves_shows_the_same_report_and_a_killed_cli_leaves_an_interrupted_run(tmp_path):
    env = {**os.environ, "INSPECTOR_DATA": str(tmp_path / "data")}
    cli = [str(Path(sys.executable).parent / "tf-graph-inspector")]
    made = tmp_path / "made.json"
    done = subprocess.run([*cli, "inspect", "gallery:process_data", "--mode", "spec", "--runs",
                           "5", "--save", "--tag", "seed", "--json", str(made)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run_id = done.stderr.split("saved run ")[1].split()[0]
    shown = subprocess.run([*cli, "history", "show", run_id, "--json", "-"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == made.read_text()
    assert '"run_id": "' + run_id in shown.stdout

    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\n\ndef f(x):\n    return x\n")
    running = subprocess.Popen([*cli, "inspect", str(slow), "--call", "float32[4]", "--save"],
                               env=env, stderr=subprocess.PIPE, text=True)
    store = RunStore(data=tmp_path / "data")
    deadline = time.monotonic() + 120
    while store.count(RunFilter(status="running")) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    running.send_signal(signal.SIGKILL)
    running.wait()
    store.close()
    store = RunStore(data=tmp_path / "data")
    statuses = {r.function: r.status for r in store.find()}
    assert statuses == {"f": "interrupted", "process_data": "done"}
    # The killed CLI's worker died with it (PR_SET_PDEATHSIG).
    time.sleep(1)
    assert str(slow) not in subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                           text=True).stdout
    store.close()


def test_report_artifacts_are_gzipped_json(store_url, tmp_path):
    store = RunStore(store_url, tmp_path / "data")
    run_id = store.save(_request(), {}, _report(5))
    with store.engine.connect() as connection:
        sha = connection.execute(sa.text("SELECT report_sha FROM runs WHERE id = :i"),
                                 {"i": run_id}).scalar_one()
    text = gzip.decompress(store.artifacts.get(sha)).decode()
    assert Report.from_json(text).run_id == run_id and '"graphs"' not in text
    store.close()


def test_gallery_requests_round_trip_through_the_store(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path / "data")
    request = prepare(read_source("gallery:process_data"), modes=["spec"])
    run_id = store.start(request, {"timeout_s": 60.0})
    saved = store.get(run_id)
    assert saved.summary.status == "running" and saved.report is None
    assert saved.summary.source_label == "gallery:process_data"
    store.close()


@pytest.mark.worker
def test_history_compare_of_folding_on_and_off_shows_the_folded_nodes(tmp_path):
    """Two saved runs of one function, Grappler's constant folding on and off: the comparison
    names the nodes the first run's report says were folded, and nothing else differs in op."""
    env = {**os.environ, "INSPECTOR_DATA": str(tmp_path / "data")}
    cli = [str(Path(sys.executable).parent / "tf-graph-inspector")]
    ids, reports = [], []
    for override in ([], ["--grappler", "constant_folding=off"]):
        path = tmp_path / f"r{len(ids)}.json"
        done = subprocess.run([*cli, "inspect", "gallery:constant_arithmetic", "--mode", "spec",
                               "--runs", "5", "--save", "--json", str(path), *override],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        ids.append(done.stderr.split("saved run ")[1].split()[0])
        reports.append(__import__("json").loads(path.read_text()))
    folded = set(reports[0]["results"][0]["diff"]["folded"])
    assert folded and not reports[1]["results"][0]["diff"]["folded"]
    done = subprocess.run([*cli, "history", "compare", *ids], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    op_differs = {line.split(":")[0].strip() for line in done.stdout.splitlines()
                  if ": op differs: A: Const," in line}
    assert op_differs == folded
    assert "source: the same code" in done.stdout
    # The inputs come first, the one that differs marked.
    marked = [line.split("  ")[0] for line in done.stdout.splitlines() if line.endswith("≠")]
    assert marked == ["Grappler overrides"]
    assert "constant_folding=off" in done.stdout


def test_the_schema_revisions_the_code_knows_are_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from inspector.store import runs

    config = Config()
    config.set_main_option("script_location", str(runs._MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == \
        list(runs.SCHEMA_REVISIONS)
    assert script.get_current_head() == runs.SCHEMA_HEAD


def test_run_ids_are_eleven_characters_and_never_look_like_an_option():
    from inspector.store.runs import new_run_id

    ids = [new_run_id() for _ in range(5000)]
    assert {len(i) for i in ids} == {11}
    assert not any(i.startswith("-") for i in ids)
    assert any("-" in i for i in ids), "the alphabet still holds '-' (inside an id)"
