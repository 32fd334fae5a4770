"""DOT for the pre/post/diff views from small GraphDef fixtures."""

import shutil
import subprocess

import pytest

from inspector.diff import diff_graphs
from inspector.render import COLOURS, to_dot
from tests.conftest import load_pbtxt


def fixture_dot(view):
    pre, post = load_pbtxt("folding_pre.pbtxt"), load_pbtxt("folding_post.pbtxt")
    return to_dot(pre if view != "post" else post, diff_graphs(pre, post), view, other=post)


def test_colours_say_what_happened():
    pre_dot, post_dot, diff_dot = (fixture_dot(v) for v in ("pre", "post", "diff"))
    assert f'"scale" [label="scale\\nMul", fillcolor="{COLOURS["folded"]}"' in pre_dot
    assert f'"scale" [label="scale\\nConst", fillcolor="{COLOURS["folded"]}"' in post_dot
    assert f'"Identity" [label="Identity\\nIdentity", fillcolor="{COLOURS["removed"]}"' in pre_dot
    assert '"ConstantFolding/y-folded"' not in pre_dot and "y-folded" in post_dot
    assert 'fontcolor="#888888"' in diff_dot  # removed nodes ghosted in the diff view
    assert '"x" -> "y";' in post_dot and '"a" -> "scale";' in pre_dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_dot_renders_valid_svg():
    svg = subprocess.run(["dot", "-Tsvg"], input=fixture_dot("diff"), capture_output=True,
                         text=True, timeout=30, check=True).stdout
    import xml.etree.ElementTree as ET

    assert ET.fromstring(svg).tag.endswith("svg")
