"""The self-contained HTML report: tables, Plotly charts and SVG graphs inline; opens offline."""

from __future__ import annotations

import html
from typing import Any

import plotly.offline

from inspector.errors import RenderError
from inspector.graphs import diff, passes, patterns, protos, render, views
from inspector.output import charts, graph_viewer, tables
from inspector.report import ModeResult, Report

# Patterns drawn per mode (one instance each); the table lists them all.
MAX_PATTERN_PICTURES = 6
_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.code { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre; }
td:not(.num):not(.code) { overflow-wrap: anywhere; }
.gv-host { margin: 0.5em 0 1.5em; }
.gv-details { max-height: none; }
.error { color: #b00020; overflow-wrap: anywhere; }
pre { background: #f7f7f7; padding: 0.5em; overflow: auto; max-height: 400px; }
"""


# Columns whose cells are source code: monospace, spaces kept.
_CODE_COLUMNS = frozenset({"code"})


def _cell(value: Any, column: str = "") -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = " class=num" if numeric else " class=code" if column in _CODE_COLUMNS else ""
    return f'<td{kind}>{html.escape(tables.cell_text(value))}</td>'


def _table(rows: list[dict[str, Any]], empty: str = "none") -> str:
    if not rows:
        return f"<p>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(_cell(v, k) for k, v in row.items()) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _viewer(panes: list[tuple[str, protos.ModeGraphs, str]], options: views.ViewOptions,
            result: ModeResult | None = None, kind: str = "") -> str:
    """The pictures (label, graphs, view) in one viewer, as in the app: pan, zoom, minimap,
    search, hover details, panes in sync."""
    drawn = []
    for label, graphs, view in panes:
        try:
            picture = render.draw(graphs, view, ("svg",), options)
        except RenderError as exc:
            return f'<p class="error">{html.escape(str(exc))}</p>'
        drawn.append(graph_viewer.Pane(label, picture))
    notes = "".join(f"<p>{html.escape(p.picture.fallback)}</p>" for p in drawn
                    if p.picture.fallback)
    return notes + graph_viewer.html_viewer(graph_viewer.viewer_data(
        drawn, attribution=result.attribution if result is not None else None,
        search_box=True), kind)


def _header(report: Report) -> list[str]:
    e = html.escape
    parts = [f"<h1>Graph optimization report: {e(report.function or '?')}</h1>",
             f"<p>Source {e(report.source or '?')} | TensorFlow {e(report.tensorflow or '?')} | "
             f"device {e(report.device or '?')} (sees {e(', '.join(report.devices))})"
             + (f" | ran on {e(report.executor.kind)}: {e(report.executor.node)}"
                if report.executor else "") + " | calls "
             f"{e(' | '.join(report.calls))}"
             + (f" | Grappler overrides {e(str(report.grappler))}" if report.grappler else "")
             + "</p>"]
    if report.error is not None:
        parts.append(f'<p class="error">{e(str(report.error))}</p>')
    return parts


def _summary(report: Report) -> list[str]:
    """The matrix, timing charts, retracing and source lines of one TensorFlow's run."""
    e = html.escape
    parts = ["<h2>Modes</h2>", _table(tables.matrix(report))]
    sdc = report.shape_dependent_constants
    if sdc is not None:
        parts.append(f"<p>{e(tables.shape_dependent_sentence(sdc))}</p>")
    if any(r.timing for r in report.results):
        parts += ["<h2>Timing</h2>",
                  charts.timing_distribution(report).to_html(full_html=False,
                                                             include_plotlyjs=False),
                  charts.timing_ecdf(report).to_html(full_html=False, include_plotlyjs=False)]
    if tables.breakdown(report):
        parts += ["<h3>Where one call's time goes</h3>",
                  charts.time_breakdown(report).to_html(full_html=False,
                                                        include_plotlyjs=False),
                  _table(tables.breakdown(report))]
    parts += ["<h2>Retracing</h2>", _table(tables.retracing(report))]
    with_lines = [r.mode for r in report.results if r.lines]
    if with_lines:
        parts += ["<h2>Your code, line by line</h2>",
                  "<p>Each line that made graph nodes, per mode: its nodes before Grappler "
                  "-&gt; after -&gt; in the graph that executed, what changed, and their "
                  "profiled time per call (us).</p>",
                  _table(tables.source_lines(report, with_lines))]
    return parts


def _mode_section(report: Report, result: ModeResult, graphs: protos.ModeGraphs | None,
                  options: views.ViewOptions) -> list[str]:
    e = html.escape
    mode = result.mode
    parts = [f'<h2 id="mode-{e(mode)}">Mode {e(mode)}</h2>']
    if result.error is not None:
        parts.append(f'<p class="error">{e(str(result.error))}</p>')
        return parts + [f"<pre>{e(frame)}</pre>" for frame in result.error.frames]
    if graphs is not None:
        parts += ["<h3>Graphs before | after Grappler</h3>",
                  _viewer([(f"Before Grappler ({len(graphs.pre.node)} nodes)", graphs, "pre"),
                           (f"After Grappler ({len(graphs.post.node)} nodes)", graphs, "post")],
                          options, result, "pre-post"),
                  "<h3>Diff view</h3>", _viewer([("", graphs, "diff")], options, result, "diff")]
    executed = protos.executed_graphs(result)
    if executed is not None:
        parts += ["<h3>The graph that executed</h3>",
                  "<p>Grappler's output after placement, one partition per device, and the "
                  "runtime's own rewrites (its kernels; the constant subgraphs it folds when "
                  "it instantiates the graph), coloured by what changed since Grappler.</p>",
                  _viewer([("", executed, "post")], options, kind="executed"),
                  _table(tables.runtime_rewrites(report, mode), "as Grappler left it")]
    if result.op_times:
        parts += ["<h3>Costliest ops (profiled calls)</h3>", _table(tables.top_ops(report, mode))]
    if result.patterns:
        parts += ["<h3>Rewrite patterns</h3>", _table(tables.patterns(report, mode))]
        if graphs is not None:
            for pattern in result.patterns[:MAX_PATTERN_PICTURES]:
                one = patterns.instance_graphs(graphs, pattern.nodes[0])
                parts += [f"<h4>x{pattern.count} {e(pattern.summary)}: one instance</h4>",
                          _viewer([("", one, "diff")], patterns.instance_view(pattern.nodes[0]),
                                  kind="pattern")]
    if result.diff is not None:
        parts += ["<details><summary>Every changed node</summary>",
                  _table(tables.rewrites(report, mode)), "</details>"]
    if result.grappler_passes:
        parts += ["<h3>Grappler passes</h3>",
                  charts.grappler_passes(report, mode).to_html(full_html=False,
                                                               include_plotlyjs=False),
                  _table(tables.passes(report, mode))]
    parts += _pass_section(report, result, options)
    if result.ablation:
        parts += ["<h3>Leave-one-out ablation</h3>", _table(tables.ablation(report, mode))]
    if result.shapes:
        parts += ["<details><summary>Static shapes of every node</summary>",
                  _table(tables.shapes(report, mode)), "</details>"]
    for stage, text in (result.hlo or {}).items():
        parts.append(f"<details><summary>XLA {e(stage)}</summary><pre>{e(text)}</pre></details>")
    return parts


def _pass_section(report: Report, result: ModeResult, options: views.ViewOptions) -> list[str]:
    """Each pass's changes as a table, and the diff picture of each pass that changed
    something (the graph after it against the graph before it)."""
    e = html.escape
    if not result.passes:
        return [f"<p>Per-pass graphs: {e(result.passes_note)}</p>"] if result.passes_note else []
    parts = ["<h3>Graph after each pass</h3>", _table(tables.pass_changes(report, result.mode)),
             "<details><summary>Passes and the options in force</summary>",
             _table(tables.pass_options(report, result.mode)), "</details>"]
    after_each = passes.pass_graphs(result)
    if after_each is None or result.graphs is None:
        return parts
    before = protos.parse(result.graphs["pre"])
    for index, (change, after) in enumerate(zip(result.passes, after_each, strict=True)):
        if change.changed:
            graphs = protos.ModeGraphs(result.mode, before, after, diff.diff_graphs(before, after))
            parts += [f"<h4>{e(passes.pass_file_label(index, change))}: {e(change.optimizer)}"
                      f" (round {change.iteration})</h4>",
                      _viewer([("", graphs, "diff")], options, kind="pass")]
        before = after
    return parts


def html_report(report: Report, options: views.ViewOptions = views.DEFAULT_OPTIONS) -> str:
    """One HTML file with everything inline (Plotly's script, SVG graphs): opens offline."""
    e = html.escape
    parts = _header(report)
    if report.versions:  # each version's modes as if it ran alone, after how they differ
        from inspector.output.text import format_version_comparison

        parts += ["<h2>Versions</h2>", _table(tables.matrix(report)),
                  "<p>Each later TensorFlow against the first, mode by mode.</p>",
                  f"<pre>{e(format_version_comparison(report))}</pre>"]
    for version in report.versions or (None,):
        shown = report.for_version(version) if version is not None else report
        if version is not None:
            parts.append(f"<h1>TensorFlow {e(version)}</h1>")
        parts += _summary(shown)
        by_mode = protos.report_graphs(shown)
        for result in shown.results:
            parts += _mode_section(shown, result, by_mode.get(result.mode), options)
    if report.stdout:
        parts += ["<h2>Printed output</h2>", f"<pre>{e(report.stdout)}</pre>"]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{e(report.function or 'report')}: graph optimization report</title>"
            f"<style>{_STYLE}</style><script>{plotly.offline.get_plotlyjs()}</script>"
            f"{graph_viewer.html_head()}</head>"
            f"<body>{''.join(parts)}{graph_viewer.html_mount()}</body></html>\n")
