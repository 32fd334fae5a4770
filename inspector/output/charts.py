"""Plotly figures of a report (timing distributions, Grappler passes), for the app and HTML."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from inspector.report import Report

# Mode -> colour, fixed so a mode has one colour in every chart.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _colour(report: Report, mode: str) -> str:
    return PALETTE[list(report.modes).index(mode) % len(PALETTE)] if mode in report.modes \
        else PALETTE[0]


# Tick mantissas in the order they are preferred: a decade first, then 2 and 5, then the rest.
_MANTISSAS = (1, 2, 5, 3, 4, 6, 8, 1.5, 2.5, 7, 9, 1.2, 1.4, 1.6, 1.8, 3.5, 4.5, 7.5)
_MOST_TICKS = 7


def _log_ticks(samples: list[float]) -> dict[str, object]:
    """A log axis over ``samples`` with its range and ticks chosen here: the nicest numbers
    first (1, then 2 and 5 of each decade, then finer), none closer to another than a seventh
    of the axis. Plotly's own choice on a log axis packs labels such as 700 and 750, or 6, 7, 8
    and 9, into one another."""
    positive = [s for s in samples if s > 0]
    if not positive:
        return {"type": "log"}
    low, high = np.log10(min(positive)), np.log10(max(positive))
    pad = max(0.03, 0.06 * (high - low))
    low, high = low - pad, high + pad
    gap = (high - low) / _MOST_TICKS
    candidates = [(rank, np.log10(m) + decade)
                  for decade in range(int(np.floor(low)), int(np.ceil(high)) + 1)
                  for rank, m in enumerate(_MANTISSAS)]
    chosen: list[float] = []
    for _, position in sorted(candidates):
        if low <= position <= high and all(abs(position - c) >= gap for c in chosen):
            chosen.append(position)
    values = sorted(float(f"{10 ** c:.3g}") for c in chosen)
    if len(values) < 3:  # under a tenth of a decade: evenly spaced round numbers
        span = 10 ** high - 10 ** low
        unit = 10 ** np.floor(np.log10(span))
        step = min(m * unit for m in (0.1, 0.2, 0.5, 1, 2, 5) if span / (m * unit) <= _MOST_TICKS)
        values = [float(f"{v:.6g}") for v in np.arange(np.ceil(10 ** low / step) * step,
                                                          10 ** high, step)]
    return {"type": "log", "range": [low, high], "tickvals": values,
            "ticktext": [f"{v:.0f}" if v >= 100 else f"{v:g}" for v in values]}


def timing_distribution(report: Report, kind: str = "box") -> go.Figure:
    """Per-call latency per mode as box or violin plots on a log axis (eager included)."""
    fig = go.Figure()
    for r in report.results:
        if r.timing is None:
            continue
        samples = list(r.timing.samples_us)
        colour = _colour(report, r.mode)
        if kind == "violin":
            fig.add_trace(go.Violin(y=samples, name=r.mode, line_color=colour,
                                    meanline_visible=True, points=False, spanmode="hard"))
        else:
            fig.add_trace(go.Box(y=samples, name=r.mode, marker_color=colour, boxpoints=False))
    fig.update_layout(yaxis_title="latency per call (us)", height=420, showlegend=False,
                      margin=dict(t=30))
    fig.update_yaxes(**_log_ticks(_all_samples(report)))
    return fig


def _all_samples(report: Report) -> list[float]:
    return [s for r in report.results if r.timing is not None for s in r.timing.samples_us]


def timing_ecdf(report: Report) -> go.Figure:
    """Empirical CDF of per-call latency per mode: how often a call took at most x us."""
    fig = go.Figure()
    for r in report.results:
        if r.timing is None:
            continue
        samples = np.sort(np.asarray(r.timing.samples_us))
        share = np.arange(1, len(samples) + 1) / len(samples)
        fig.add_trace(go.Scatter(x=samples, y=share, name=r.mode, mode="lines",
                                 line=dict(shape="hv", color=_colour(report, r.mode))))
    fig.update_layout(xaxis_title="latency per call (us)", yaxis_title="share of calls",
                      height=420, margin=dict(t=30))
    fig.update_xaxes(**_log_ticks(_all_samples(report)))
    # A little room under 0: the y axis's "0" sat on the x axis's first label.
    fig.update_yaxes(range=[-0.05, 1.05])
    return fig


def time_breakdown(report: Report) -> go.Figure:
    """One stacked bar per mode: a call's time before the graph runs (NumPy conversion apart),
    the graph, and after it; beside a NumPy mode's bar, tf.convert_to_tensor on the same
    arrays timed on its own (a diamond). Figures from the profiler; no verdict."""
    rows = [(r.mode, r.timing.breakdown) for r in report.results
            if r.timing is not None and r.timing.breakdown is not None]
    modes = [mode for mode, _ in rows]
    fig = go.Figure()
    parts = (("NumPy conversion in the call", "#ff7f0e", lambda b: b.conversion_us),
             ("binding, lookup, dispatch", "#aec7e8",
              lambda b: max(0.0, b.before_graph_us - b.conversion_us)),
             ("graph execution", "#1f77b4", lambda b: b.graph_us),
             ("after the graph", "#c7c7c7", lambda b: b.other_us if b.graph_us else 0.0),
             ("eager call (op by op, no graph)", "#98df8a",
              lambda b: 0.0 if b.graph_us else b.call_us))
    for name, colour, value in parts:
        if not any(value(b) for _, b in rows):
            continue  # the legend names only what is drawn
        fig.add_trace(go.Bar(y=modes, x=[value(b) for _, b in rows], name=name,
                             orientation="h", marker_color=colour,
                             hovertemplate="%{y}: %{x:,.1f} us<extra>" + name + "</extra>"))
    alone = [(mode, b.convert_alone_us) for mode, b in rows if b.convert_alone_us is not None]
    if alone:
        fig.add_trace(go.Scatter(y=[m for m, _ in alone], x=[us for _, us in alone],
                                 mode="markers", marker=dict(symbol="diamond", size=12,
                                                             color="#d62728"),
                                 name="tf.convert_to_tensor alone (same arrays)",
                                 hovertemplate="%{y}: %{x:,.1f} us<extra>convert alone</extra>"))
    samples = rows[0][1].samples if rows else 0
    fig.update_layout(barmode="stack", xaxis_title=f"us per call (mean of {samples} profiled "
                                                   "calls)", height=140 + 40 * len(rows),
                      margin=dict(t=30),
                      # Above the bars: below them it ran into the axis title.
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left",
                                  x=0))
    fig.update_yaxes(autorange="reversed", automargin=True)  # "reduce-retracing" was cut
    return fig


def request_stages(report: Report, extra: tuple[tuple[str, float], ...] = ()) -> go.Figure:
    """The request's waterfall: one bar per stage from where the previous one ended (ms);
    ``extra``: stages after the report was made (saving, the page's drawing)."""
    stages = [(s.stage, s.ms) for s in report.request_stages] + list(extra)
    starts = np.cumsum([0.0] + [ms for _, ms in stages[:-1]]).tolist()
    labels = [f"{i + 1}. {name}" for i, (name, _) in enumerate(stages)]
    fig = go.Figure(go.Bar(
        y=labels, x=[ms for _, ms in stages], base=starts, orientation="h",
        marker_color="#1f77b4", text=[f"{ms:,.1f}" for _, ms in stages],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:,.1f} ms<extra></extra>"))
    total = sum(ms for _, ms in stages)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(range=[0, total * 1.18 or 1], automargin=True)
    fig.update_layout(xaxis_title=f"ms since the click ({total:,.0f} ms in all)",
                      height=90 + 22 * len(stages), margin=dict(t=20, b=40), showlegend=False)
    return fig


def _whole_step(reach: float) -> int:
    """A tick step of 1, 2 or 5 times a power of ten giving about three ticks each side of 0:
    node counts have no halves."""
    target = max(1.0, reach / 3)
    power = 10 ** int(np.floor(np.log10(target)))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= target)


def grappler_passes(report: Report, mode: str) -> go.Figure:
    """Nodes removed (negative) or added by each Grappler pass, one bar per pass in the order
    they ran, with the full pass name, its time and the edge change on hover."""
    result = report.result(mode)
    passes = result.grappler_passes if result else ()
    # Horizontal bars: pass names are long (the TFG pass carries its whole pipeline in braces)
    # and would squeeze a vertical chart's plot into a strip above its labels.
    labels = [f"{p.iteration}: {p.optimizer.split('{', 1)[0]}" for p in passes]
    fig = go.Figure(go.Bar(
        y=list(range(len(passes))), x=[p.node_delta for p in passes], orientation="h",
        text=[f"{p.node_delta:+d}" if p.node_delta else "0" for p in passes],
        textposition="outside", cliponaxis=False,
        marker_color=["#d62728" if p.node_delta < 0 else "#2ca02c" if p.node_delta > 0
                      else "#999999" for p in passes],
        customdata=[[p.optimizer, p.time_ms, p.nodes_after, p.edge_delta] for p in passes],
        hovertemplate="%{customdata[0]}<br>node delta %{x}<br>nodes after %{customdata[2]}"
                      "<br>edge delta %{customdata[3]}<br>%{customdata[1]} ms<extra></extra>"))
    fig.update_yaxes(tickvals=list(range(len(passes))), ticktext=labels, autorange="reversed")
    # Zero in the middle of the axis: a pass that changed nothing reads as "0" beside it.
    reach = max([abs(p.node_delta) for p in passes] + [1]) * 1.25
    fig.update_xaxes(range=[-reach, reach], zeroline=True, zerolinecolor="#888",
                     dtick=_whole_step(reach), automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=f"{mode}: node change per Grappler pass (red removed, green added)",
                      xaxis_title="node delta", height=110 + 22 * len(passes),
                      margin=dict(t=40, b=40))
    return fig
