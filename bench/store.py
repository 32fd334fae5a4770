"""The store: listing and opening saved runs among 10,000, what saving adds to an
inspection, bytes per run, and concurrent saves on SQLite."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import CLI, PY, ROOT, cli, saved_id
from bench.registry import benchmark


def _fill_history(store, template_id: str, total: int) -> None:
    """``total`` runs in the database: copies of one saved run's row (ids, times, functions
    and titles vary), sharing its artifacts, as a busy team's store would hold."""
    import datetime as dt

    import sqlalchemy as sa

    from inspector.store.models import runs

    with store.engine.begin() as connection:
        row = dict(connection.execute(sa.select(runs).where(runs.c.id == template_id))
                   .one()._mapping)
        now = dt.datetime.now(dt.UTC)
        copies = []
        for number in range(total - 1):
            copies.append({**row, "id": f"bench{number:07d}", "function": f"fn_{number % 40}",
                           "title": f"bench run {number}",
                           "created_at": now - dt.timedelta(minutes=number + 1)})
        connection.execute(runs.insert(), copies)


@benchmark("store")
def saved_runs(quick: bool) -> None:
    """The store: list and History page over 10,000 runs, opening a saved run, what saving
    adds to an inspection, bytes per run, and 8 concurrent `inspect --save` on SQLite."""
    import tempfile

    from streamlit.testing.v1 import AppTest

    from inspector.store.runs import RunStore

    resnet = not quick
    data = Path(tempfile.mkdtemp(prefix="inspector-bench-store-"))
    env = {**os.environ, "INSPECTOR_DATA": str(data), "TF_CPP_MIN_LOG_LEVEL": "3"}
    os.environ["INSPECTOR_DATA"] = str(data)
    os.environ.pop("INSPECTOR_DB", None)
    print("\n### Saved runs (SQLite store in a fresh data folder)\n")
    seed = saved_id(cli("inspect", "gallery:process_data", "--mode", "all", "--runs", "100",
                          "--save", env=env))
    store = RunStore()
    rows = [("seed example 1, all modes", seed)]
    if resnet:
        rows.append(("resnet50, numpy spec spec-dynamic", saved_id(cli(
            "inspect", "gallery:resnet50", "--mode", "numpy", "--mode", "spec", "--mode",
            "spec-dynamic", "--runs", "20", "--save", env=env))))
    print("| run | inspection (s) | saving (s) | saving / inspection | stored bytes | "
          "open in the app (s) |")
    print("|---|---|---|---|---|---|")
    # The server is warm when a colleague opens a link: one untimed page run first.
    AppTest.from_file(str(ROOT / "inspector/ui/inspect_page.py"), default_timeout=120).run()
    for label, run_id in rows:
        saved = store.get(run_id)
        assert saved.report is not None
        start = time.perf_counter()
        again = store.start(_request_of(saved), saved.limits)
        store.finish(again, saved.report)
        save_s = time.perf_counter() - start
        inspect_s = saved.summary.duration_s or float("nan")
        at = AppTest.from_file(str(ROOT / "inspector/ui/inspect_page.py"), default_timeout=120)
        at.query_params["run"] = run_id
        start = time.perf_counter()
        at.run()
        open_s = time.perf_counter() - start
        assert not at.exception and any(m.value.startswith("| mode |") for m in at.markdown), \
            "the saved run's matrix is shown"
        print(f"| {label} | {inspect_s:.2f} | {save_s:.3f} | {save_s / inspect_s:.1%} | "
              f"{saved.summary.size_bytes:,} | {open_s:.2f} |")
    _fill_history(store, seed, 10_000)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        done = cli("history", "list", env=env)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0 and "bench0000000" in done.stdout
    floor = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([PY, "-c", "import sqlalchemy"], check=True)
        floor.append(time.perf_counter() - start)
    query = []
    for _ in range(5):
        start = time.perf_counter()
        store.count()
        store.find(limit=50)
        query.append(time.perf_counter() - start)
    page = []
    for _ in range(5):
        at = AppTest.from_file(str(ROOT / "inspector/ui/history_page.py"), default_timeout=60)
        start = time.perf_counter()
        at.run()
        page.append(time.perf_counter() - start)
        assert not at.exception and at.dataframe
    print(f"\n10,000 runs: `history list` end to end (a new process) median "
          f"{statistics.median(times):.2f} s (min {min(times):.2f}); of which a new Python "
          f"importing SQLAlchemy alone: median {statistics.median(floor):.2f} s; the count and "
          f"first page's queries: {statistics.median(query) * 1e3:.0f} ms. History page server "
          f"work to its table (AppTest run): median {statistics.median(page):.2f} s "
          f"(min {min(page):.2f}).")
    concurrent_saves(env)


def _request_of(saved):
    from inspector.inputs.request import InspectRequest

    return InspectRequest.from_dict(saved.request)


def concurrent_saves(env: dict[str, str]) -> None:
    """8 `inspect --save` processes at once on one SQLite store."""
    from inspector.store.runs import RunFilter, RunStore

    before = RunStore().count(RunFilter(status="done"))
    start = time.perf_counter()
    processes = [subprocess.Popen(
        [CLI, "inspect", "gallery:process_data",
         "--mode", "spec", "--runs", "20", "--save"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    errors = [p.communicate(timeout=900)[1] for p in processes]
    wall_s = time.perf_counter() - start
    saved = RunStore().count(RunFilter(status="done")) - before
    locked = sum("locked" in e for e in errors)
    failed = sum(p.returncode != 0 for p in processes)
    print(f"\n8 concurrent `inspect --save` (SQLite): {saved} of 8 runs saved, {failed} failed, "
          f"{locked} 'database is locked', {wall_s:.1f} s wall.")
