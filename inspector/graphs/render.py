"""Graph pictures: SVG/PNG/PDF from Graphviz's ``dot``, for the DOT text ``dot_text`` writes.

``dot`` always runs with a timeout; large pictures use layout settings that stay fast, and a
picture that still times out is drawn again with more scopes collapsed, so nothing hangs; a
PNG the size cap would shrink past legibility is drawn as the overview instead.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import GraphvizMissing, RenderError, UsageError
from inspector.graphs import PICTURE_FORMATS, layout, protos, views
from inspector.graphs.dot_text import arrange, to_dot

FORMATS = PICTURE_FORMATS
# Above this many boxes the default layout gets slow (ResNet50's full pre graph: over 60 s).
# Measured on that graph (1832 boxes, 2220 edges): nslimit=1, nslimit1=1, mclimit=0.1 and
# straight edges 11.3 s; cutting the network-simplex and crossing-minimisation passes to a fifth
# of that, as here, 1.9 s. The layout stays ranked top to bottom; edges cross more.
FAST_LAYOUT_ABOVE = 150
FAST_LAYOUT = ("-Gnslimit=0.2", "-Gnslimit1=0.2", "-Gmclimit=0.05", "-Gsplines=line")
# Seconds one dot run may take before the picture is drawn again, more collapsed.
DOT_TIMEOUT_S = 20.0
# Box budgets tried in turn after a timeout.
FALLBACK_BUDGETS = (150, 60)
# Raster resolution: big graphs at print resolution make PNGs of hundreds of megapixels.
PNG_DPI = 72
# Large pictures as PNG are scaled to fit this many inches square (7200 px at 72 dpi): ResNet50's
# full pre graph, before pictures were wrapped into columns, took 11.5 s to rasterise uncapped
# (dot itself shrinks it to cairo's 32767 px limit), 3.8 s capped. SVG and PDF keep their
# natural size.
PNG_MAX_IN = 100
# Labels are 9 pt (9 px in a PNG at 72 dpi). A PNG that the size cap shrinks below this scale
# has labels under 7 px: unreadable at 100% zoom, so it is drawn more collapsed instead.
LEGIBLE_SCALE = 0.8


def dot_command() -> str:
    """Path of Graphviz's ``dot``; a typed error naming the package when it is missing."""
    path = shutil.which("dot")
    if path is None:
        raise GraphvizMissing("Graphviz's `dot` program is not installed: install the system "
                              "package `graphviz` (Debian/Ubuntu: `sudo apt-get install "
                              "graphviz`; macOS: `brew install graphviz`), or run `make setup`")
    return path


def run_dot(dot_text: str, formats: tuple[str, ...] = ("svg",),
            timeout_s: float = DOT_TIMEOUT_S,
            boxes: int | None = None) -> tuple[dict[str, bytes], float]:
    """Lay out ``dot_text`` and draw it in each of ``formats`` (one layout for vector formats).

    Returns the files by format, and the scale the PNG was drawn at (1.0 without a PNG or when
    it fits PNG_MAX_IN; below that, the cap shrank the picture).

    Raises ``subprocess.TimeoutExpired`` past ``timeout_s`` (dot is killed), GraphvizMissing
    without dot, RenderError when dot rejects the input.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"formats must be among {FORMATS}, not {formats!r}")
    large = boxes is None or boxes > FAST_LAYOUT_ABOVE
    options = [f"-Gdpi={PNG_DPI}", *(FAST_LAYOUT if large else ())]
    if large and "png" in formats:  # rasterised at a capped size, in a run of its own
        rest = tuple(f for f in formats if f != "png")
        drawn = _dot(dot_text, rest, options, timeout_s) if rest else {}
        png = _dot(dot_text, ("png", "plain"), [*options, f"-Gsize={PNG_MAX_IN},{PNG_MAX_IN}"],
                   timeout_s)
        # -Tplain starts "graph <scale> <width> <height>": the scale the size cap imposed
        return {**drawn, "png": png["png"]}, float(png["plain"].split()[1])
    return _dot(dot_text, formats, options, timeout_s), 1.0


def _dot(dot_text: str, formats: tuple[str, ...], options: list[str],
         timeout_s: float) -> dict[str, bytes]:
    command = [dot_command(), *options]
    with tempfile.TemporaryDirectory(prefix="inspector-dot-") as tmp:
        paths = {fmt: Path(tmp) / f"picture.{fmt}" for fmt in formats}
        for fmt, path in paths.items():
            command += [f"-T{fmt}", "-o", str(path)]
        done = subprocess.run(command, input=dot_text.encode(), capture_output=True,
                              timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RenderError(f"dot failed (exit {done.returncode}): "
                              f"{done.stderr.decode(errors='replace').strip()[:500]}")
        return {fmt: path.read_bytes() for fmt, path in paths.items()}


@dataclass(frozen=True)
class Picture:
    """A drawn view."""

    # Format -> the file's bytes (SVG is UTF-8 text).
    data: dict[str, bytes]
    # What was drawn (after any fallback).
    graph: views.ViewGraph
    # Set when the requested options timed out, or the PNG would have been shrunk past
    # legibility, and a more collapsed picture was drawn: says so and what to do instead.
    fallback: str | None = None
    # Columns the picture is wrapped into (1: as dot laid it out).
    columns: int = 1
    # The scale the PNG was drawn at (1.0: full size; below LEGIBLE_SCALE, labels are small).
    png_scale: float = 1.0


def draw(graphs: protos.ModeGraphs, view: str, formats: tuple[str, ...] = ("svg",),
         options: views.ViewOptions = views.DEFAULT_OPTIONS,
         timeout_s: float = DOT_TIMEOUT_S) -> Picture:
    """Build the view and draw it, arranged on its canvas (``dot_text.arrange``); on a dot
    timeout, collapse further and try again. A PNG the size cap would shrink past
    LEGIBLE_SCALE is drawn with the overview's settings instead, then fewer boxes (the SVG and
    PDF keep every box: they have no size cap), and ``fallback`` says so.

    Raises GraphvizMissing without ``dot``, RenderError when even the most collapsed picture
    times out.
    """
    picture = _draw(graphs, view, formats, options, timeout_s)
    if picture.png_scale >= LEGIBLE_SCALE:
        return picture
    shown = len(picture.graph.nodes)
    # First the overview's settings (scopes collapsed to the box budget, noise hidden as the
    # graph's size says); while still too big, fewer boxes: a wrapped picture's area grows
    # with its boxes, so fit them to the legible area.
    budget = min(options.max_nodes, shown - 1)
    for _ in range(3):
        smaller = _draw(graphs, view, ("png",), dataclasses.replace(
            options, collapse=True, expand=(), max_nodes=budget, hide_noise=None), timeout_s)
        scale = smaller.png_scale
        if scale >= LEGIBLE_SCALE or budget == views.MIN_BOXES:
            break
        budget = max(views.MIN_BOXES, int(len(smaller.graph.nodes)
                                          * (scale / LEGIBLE_SCALE) ** 2 * 0.9))
    drawn = len(smaller.graph.nodes)
    if drawn >= shown or scale < LEGIBLE_SCALE:
        note = (f"The PNG is shrunk to {picture.png_scale:.0%} to fit "
                f"{PNG_MAX_IN} inches: its labels are not "
                "legible at 100% zoom. Draw the overview (scopes collapsed) or only the "
                "changes, or export SVG or PDF (no size cap)")
        return dataclasses.replace(picture, fallback=picture.fallback or note)
    note = (f"All {shown} boxes would make the PNG {picture.png_scale:.0%} of full size, its "
            f"labels unreadable: the PNG shows the overview ({drawn} boxes) instead"
            f"{'' if formats == ('png',) else ' (the SVG and PDF show all of them)'}. "
            "Drawing only the changes keeps every changed node at full size")
    return dataclasses.replace(picture, data={**picture.data, "png": smaller.data["png"]},
                               fallback=note, png_scale=scale)


def _draw(graphs: protos.ModeGraphs, view: str, formats: tuple[str, ...],
          options: views.ViewOptions, timeout_s: float) -> Picture:
    attempts = [options] + [dataclasses.replace(options, collapse=True, expand=(),
                                                max_nodes=budget)
                            for budget in FALLBACK_BUDGETS if budget < options.max_nodes]
    note = None
    for attempt in attempts:
        graph = views.build(graphs, view, attempt)
        try:
            wrap = arrange(graph)
            data, scale = run_dot(to_dot(graph, wrap), formats, timeout_s, len(graph.nodes))
        except subprocess.TimeoutExpired:
            note = (f"dot took more than {timeout_s:g} s for {len(graph.nodes)} boxes; "
                    "drawn again with more scopes collapsed")
            continue
        return Picture(data, graph, note if attempt is not options else None,
                       wrap.count if isinstance(wrap, layout.Wrap) else 1, scale)
    raise RenderError(f"dot did not finish within {timeout_s:g} s even with scopes collapsed "
                      f"to {attempts[-1].max_nodes} boxes")
