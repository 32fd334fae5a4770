"""Pictures of the large models, drawn in this process (no TensorFlow) from a worker's report:
how long they take, and how much of an exported PNG's canvas they use."""

from __future__ import annotations

import sys
import tempfile
import time

from bench.canvas import canvas_use
from bench.registry import benchmark

LARGE = ("mobilenet_v2", "resnet50")


@benchmark("render")
def render_times(quick: bool) -> None:
    """Rendering the large models' overviews, diff and exports (dot included)."""
    from inspector.graphs import protos, render, views
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor
    from inspector.output import files

    print("\n### Rendering (mode spec; seconds, dot included)\n")
    print("| model | nodes pre/post | overview pre (svg) | overview post (svg) | diff (svg) | "
          "expanded export: pre+post+diff, svg+pdf | same with png |")
    print("|---|---|---|---|---|---|---|")
    with LocalExecutor(workers=1) as pool:
        for name in LARGE:
            request = prepare(read_source(f"gallery:{name}"), modes=["spec"], runs=3, warmup=1,
                              include_graphs=True)
            report = pool.submit(request).result()
            graphs = protos.mode_graphs(report.results[0])
            assert graphs is not None, report.results[0].error
            cells = []
            for view in views.VIEWS:
                start = time.perf_counter()
                render.draw(graphs, view)
                cells.append(time.perf_counter() - start)
            expanded = views.ViewOptions(hide_noise=False, collapse=False)
            for formats in (("svg", "pdf"), ("svg", "pdf", "png")):
                with tempfile.TemporaryDirectory() as out:
                    start = time.perf_counter()
                    files.write_graphs(report, out, formats, expanded)
                    cells.append(time.perf_counter() - start)
            print(f"| {name} | {len(graphs.pre.node)}/{len(graphs.post.node)} | "
                  + " | ".join(f"{c:.2f}" for c in cells) + " |")
    print(f"\n(parent imported TensorFlow: {'tensorflow' in sys.modules})")


def _canvas_cells(png: bytes, scale: float) -> str:
    width, height, aspect, inked = canvas_use(png)
    return f"{width}x{height}, {aspect:.2f}:1, {inked:.1%}, {scale:.2f}"


@benchmark("canvas")
def canvas(quick: bool) -> None:
    """Issue 16's measure for exported diff PNGs of the large models (mode spec): size, aspect
    and tiles inked, against the same picture drawn as one dot layout (the baseline, same run),
    and the time the wrapping adds; then how many small gallery pictures are drawn as before."""
    from inspector.graphs import dot_text, protos, render, views
    from inspector.inputs import gallery
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor

    print("\n### Canvas use of exported diff PNGs (mode spec; goal: >= 25% of 100 px tiles "
          "inked, <= 4:1)\n")
    print("| model | picture | boxes | one dot layout: px, aspect, inked, scale | wrapped: px, "
          "aspect, inked, scale | columns | draw time wrapped / one layout |")
    print("|---|---|---|---|---|---|---|")
    small = [e.name for e in gallery.ENTRIES if e.name not in LARGE and e.model is None]
    unchanged = total = 0
    with LocalExecutor(workers=1) as pool:
        for name in (*LARGE, *small):
            request = prepare(read_source(f"gallery:{name}"), modes=["all"] if name in small
                              else ["spec"], runs=3, warmup=1, include_graphs=True,
                              passes=False)
            report = pool.submit(request).result()
            for result in report.results:
                graphs = protos.mode_graphs(result)
                if graphs is None:
                    continue
                for label, options in (("overview", views.ViewOptions()),
                                       ("changes only", views.ViewOptions(changes_only=1))):
                    graph = views.build(graphs, "diff", options)
                    if name in small:
                        total += 1
                        unchanged += dot_text.arrange(graph) is None
                        continue
                    start = time.perf_counter()
                    plain, plain_scale = render.run_dot(dot_text.to_dot(graph), ("png",),
                                                        boxes=len(graph.nodes))
                    plain_s = time.perf_counter() - start
                    start = time.perf_counter()
                    picture = render.draw(graphs, "diff", ("png",), options)
                    wrapped_s = time.perf_counter() - start
                    print(f"| {name} | {label} | {len(graph.nodes)} | "
                          f"{_canvas_cells(plain['png'], plain_scale)} | "
                          f"{_canvas_cells(picture.data['png'], picture.png_scale)} | "
                          f"{picture.columns} | {wrapped_s / plain_s:.2f}x |")
    print(f"\nSmall gallery entries, every mode, overview and changes-only diff: {unchanged} of "
          f"{total} pictures drawn as one dot layout, as before.")
