"""Helpers tests share (plain functions; fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def shown(markdown: str) -> str:
    """What a person reads from an element's Markdown: backslash escapes undone (the app
    escapes user text so that it renders as written)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def markdown_frame(markdown: str):
    """A Markdown table the app drew (the mode matrix is one) as a DataFrame of the text a
    person reads in each cell, indexed by its first column."""
    import pandas as pd

    def cells(line: str) -> list[str]:  # a cell's own "|" is escaped: "\\|"
        return [shown(c.strip()) for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    head, _align, *rows = [cells(line) for line in markdown.strip().splitlines()]
    return pd.DataFrame(rows, columns=head).set_index(head[0])


def matrix_frame(at):
    """The mode matrix an AppTest run drew (its first one), or None."""
    tables = [m.value for m in at.markdown if m.value.startswith("| mode |")]
    return markdown_frame(tables[0]) if tables else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, tries: int = 300) -> None:
    """Until ``url`` answers (a server or provider starting); RuntimeError after ~30 s."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to a process started with ``start_new_session=True`` and all it started."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=timeout)


ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def load_pbtxt(name: str):
    """A GraphDef from tests/data (protobuf text), read with TensorBoard's copy of the protos so
    pure tests stay free of TensorFlow."""
    from inspector.graphs.protos import parse_text

    return parse_text((DATA / name).read_text())


def fixture_graphs(mode: str = "spec"):
    """The constant-folding fixture as one mode's pre/post graphs with their diff."""
    from inspector.graphs.diff import diff_graphs
    from inspector.graphs.protos import ModeGraphs
    from inspector.report import NodeShapes, ShapeTable

    pre, post = load_pbtxt("folding_pre.pbtxt"), load_pbtxt("folding_post.pbtxt")

    def table(graph):  # what import_graph_def infers for this fixture: x is float32[4]
        shape = {"x": "(4,)", "y": "(4,)", "Identity": "(4,)", "output_RetVal": None}
        return ShapeTable(tuple(NodeShapes(n.name, n.op, (shape.get(n.name, "()"),)
                                           if shape.get(n.name, "()") else ())
                                for n in graph.node), 0)

    return ModeGraphs(mode, pre, post, diff_graphs(pre, post), table(pre), table(post))


def changed_names(diff) -> set[str]:
    """Every node a GraphDiff names, whatever happened to it."""
    return {*diff.removed, *diff.added, *diff.folded, *(f.name for f in diff.fused),
            *(c.name for c in diff.op_changed), *(r.name for r in diff.rewired)}
