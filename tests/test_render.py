"""DOT text against golden files, and dot's SVG/PNG/PDF output (Graphviz is part of set-up)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from inspector.errors import GraphvizMissing, RenderError
from inspector.graphs import dot_text, render
from inspector.graphs.views import VIEWS, ViewOptions, build
from tests.helpers import DATA, fixture_graphs


@pytest.mark.parametrize("view", VIEWS)
def test_dot_matches_golden_text(view):
    dot = dot_text.to_dot(build(fixture_graphs(), view, ViewOptions(edge_shapes=True)))
    golden = DATA / f"folding_{view}.dot"
    assert dot + "\n" == golden.read_text(), f"DOT for {view} changed; review and update {golden}"


def test_colours_say_what_happened():
    pre = dot_text.to_dot(build(fixture_graphs(), "pre"))
    post = dot_text.to_dot(build(fixture_graphs(), "post"))
    diff = dot_text.to_dot(build(fixture_graphs(), "diff"))
    assert f'"scale" [label="scale\\nMul\\n()", fillcolor="{dot_text.COLOURS["folded"]}"' in pre
    assert f'"scale" [label="scale\\nConst\\n()", fillcolor="{dot_text.COLOURS["folded"]}"' in post
    assert f'fillcolor="{dot_text.COLOURS["removed"]}"' in pre and "y-folded" not in pre
    assert 'fontcolor="#888888"' in diff  # removed nodes ghosted in the diff view


def test_one_layout_drawn_in_every_format():
    picture = render.draw(fixture_graphs(), "diff", ("svg", "png", "pdf"))
    root = ET.fromstring(picture.data["svg"])
    assert root.tag.endswith("svg")
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"scale", "ConstantFolding/y-folded", "Identity"} <= titles
    assert picture.data["png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert picture.data["pdf"].startswith(b"%PDF-")
    assert picture.fallback is None


def test_timeout_falls_back_to_a_more_collapsed_picture(monkeypatch):
    real = render.run_dot
    calls = []

    def slow_when_big(text, formats, timeout_s, boxes):
        calls.append(boxes)
        if len(calls) == 1:
            raise subprocess.TimeoutExpired("dot", timeout_s)
        return real(text, formats, timeout_s, boxes)

    monkeypatch.setattr(render, "run_dot", slow_when_big)
    picture = render.draw(fixture_graphs(), "pre", ("svg",), ViewOptions(max_nodes=400))
    assert len(calls) == 2 and "more than" in picture.fallback


def test_every_attempt_timing_out_is_a_typed_error(monkeypatch):
    def always_slow(text, formats, timeout_s, boxes):
        raise subprocess.TimeoutExpired("dot", timeout_s)

    monkeypatch.setattr(render, "run_dot", always_slow)
    with pytest.raises(RenderError, match="did not finish"):
        render.draw(fixture_graphs(), "pre")


def test_missing_dot_names_the_package(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="graphviz"):
        render.draw(fixture_graphs(), "pre")
