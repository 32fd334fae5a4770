"""The Grappler passes tab: the passes and the options in force, what each pass changed, and
a stepper over the passes showing the graph after the chosen pass (its changes coloured as in
the diff view) beside the graph before it. Also each pass's log figures and the ablation."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from inspector.graphs import diff, passes, protos, views
from inspector.output import charts, tables
from inspector.report import ModeResult, Report
from inspector.ui import graphs_tab, kept
from inspector.ui.plain import plain

# Session-state key of the per-pass graphs (a ResNet50 mode's are ~40 MB: one mode is kept).
CACHE = "_pass_graphs_cache"


def _after_each(report: Report, result: ModeResult) -> tuple[Any, ...] | None:
    cache = st.session_state.setdefault(CACHE, {})
    key = (id(report), result.mode)
    if key not in cache:
        cache.clear()
        cache[key] = passes.pass_graphs(result)
    return cache[key]


def _step_label(index: int, result: ModeResult) -> str:
    change = result.passes[index]
    run = f", run {change.run}" if change.run > 1 else ""
    return f"{index + 1}. {change.optimizer.split('{', 1)[0]} (round {change.iteration}{run})"


def _stepper(report: Report, result: ModeResult) -> None:
    after_each = _after_each(report, result)
    if after_each is None:
        st.info("This report does not carry the per-pass graphs (a JSON report without "
                "graphs); the tables above come from it.")
        return
    only_changing = st.checkbox("Step only through passes that changed something", value=True,
                                key="pass_only_changing")
    steps = [i for i, change in enumerate(result.passes)
             if change.changed or not only_changing]
    if not steps:
        st.info("No pass changed this function's graph.")
        return
    index: Any = st.select_slider("Pass", steps, format_func=lambda i: _step_label(i, result),
                                  key=f"pass_step_{result.mode}")
    change = result.passes[index]
    before = after_each[index - 1] if index > 0 else protos.parse((result.graphs or {})["pre"])
    after = after_each[index]
    pair = protos.ModeGraphs(f"{result.mode} pass {index + 1}", before, after,
                             diff.diff_graphs(before, after))
    st.caption(f"{change.optimizer}: removed {len(change.removed)}, added {len(change.added)}, "
               f"op changed {len(change.op_changed)}, rewired {len(change.rewired)}; "
               f"{change.nodes} nodes and {change.edges} edges after it.")
    near: Any = st.selectbox("Show", list(graphs_tab.NEAR_CHOICES), key="pass_near",
                             index=1 if change.nodes > views.MAX_NODES else 0)
    options = views.ViewOptions(hide_noise=change.nodes > views.MAX_NODES,
                                changes_only=graphs_tab.NEAR_CHOICES[near],
                                narrow_past=None if near in graphs_tab.UNBOUNDED
                                else views.MAX_BOXES)
    name = change.optimizer.split("{", 1)[0]
    graphs_tab.viewer(report, [(f"Before this pass ({len(before.node)} nodes)", pair, "pre"),
                               (f"After {name}, its changes coloured ({len(after.node)} nodes)",
                                pair, "diff")],
                      options, f"viewer_pass_{result.mode}")


def show(report: Report) -> None:
    """One mode at a time (the picker's): its pass tables, stepper, chart and ablation."""
    shown = [r for r in report.results
             if r.passes or r.passes_note or r.grappler_passes or r.ablation]
    if not shown:
        st.info("No mode has Grappler pass figures (eager has no graph; failed modes stopped "
                "before Grappler ran).")
        return
    kept.restore("passes_mode", [r.mode for r in shown])
    chosen: Any = st.selectbox("Mode", [r.mode for r in shown], key="passes_mode")
    kept.remember("passes_mode")
    result = next(r for r in shown if r.mode == chosen)
    if result.passes_note:
        st.info(f"Per-pass graphs: {plain(result.passes_note)}")
    if result.passes:
        st.markdown("**The passes and the options in force** (default, or set by you "
                    "under Advanced; 'ran' counts the rounds it ran in)")
        st.dataframe(pd.DataFrame(tables.pass_options(report, chosen)), hide_index=True,
                     key="pass_options")
        st.markdown("**What each pass changed** (TensorFlow's dump of the graph after it, "
                    "against the graph before it)")
        st.dataframe(pd.DataFrame(tables.pass_changes(report, chosen)), hide_index=True,
                     key="pass_changes")
        _stepper(report, result)
    if result.grappler_passes:
        st.plotly_chart(charts.grappler_passes(report, chosen), key=f"passes_{chosen}")
    if result.ablation:
        st.markdown(f"**{chosen}: leave-one-out ablation**")
        st.dataframe(pd.DataFrame(tables.ablation(report, chosen)), hide_index=True)
