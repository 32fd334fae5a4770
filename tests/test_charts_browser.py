"""Every Plotly figure the app and the HTML report build, drawn by chromium from real reports:
no text overlaps other text, none is cut off at the figure's edge, the legend names only what
is drawn, and count axes have whole-number ticks."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import plotly.offline
import pytest

from inspector.inputs.request import prepare
from inspector.inputs.sources import read_source
from inspector.output import charts

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# The app's result column and a wide HTML report page.
WIDTHS = (700, 1200)


@pytest.fixture(scope="module")
def reports(executor):
    """Seed example 1 in every mode but XLA's, and a function several passes change."""
    seed = executor.submit(prepare(read_source("gallery:process_data"),
                                   modes=["eager", "numpy", "tensor", "spec", "spec-dynamic",
                                          "reduce-retracing"], runs=20)).result()
    arithmetic = executor.submit(prepare(read_source("gallery:arithmetic_rewrite"),
                                         modes=["numpy", "spec"], runs=20)).result()
    for report in (seed, arithmetic):
        assert report.error is None and not report.failed_modes, report
    return {"seed": seed, "arithmetic": arithmetic}


def figures(reports):
    for name, report in reports.items():
        yield f"{name}: box", charts.timing_distribution(report, "box")
        yield f"{name}: violin", charts.timing_distribution(report, "violin")
        yield f"{name}: ecdf", charts.timing_ecdf(report)
        yield f"{name}: breakdown", charts.time_breakdown(report)
        yield f"{name}: request stages", charts.request_stages(
            report, (("saving", 12.5), ("drawing the page", 80.0)))
        for result in report.results:
            if result.grappler_passes:
                yield f"{name}: passes {result.mode}", charts.grappler_passes(report,
                                                                              result.mode)
    # The latency axes over narrow, wide and skewed spans (a full-suite run once drew a violin
    # with Plotly's labels 700 and 750 run into each other; its samples were not kept).
    spans = ((600, 1800), (700, 2000), (400, 1200), (700, 760), (300, 1000), (50, 51),
             (3, 30000))
    for low, high in spans:
        report = _with_latencies(reports["seed"], low, high)
        for kind in ("box", "violin"):
            yield f"{low}-{high} us: {kind}", charts.timing_distribution(report, kind)
        yield f"{low}-{high} us: ecdf", charts.timing_ecdf(report)


def _with_latencies(report, low: float, high: float):
    """``report`` with each mode's timed calls spread from ``low`` to ``high`` us."""
    results = []
    for i, result in enumerate(report.results):
        if result.timing is not None:
            samples = np.geomspace(low, high, 20 + i)
            if i % 2:  # two clusters: the fastest and the slowest
                samples = np.concatenate([np.full(40, low), np.full(10, high)])
            result = dataclasses.replace(result, timing=dataclasses.replace(
                result.timing, samples_us=tuple(float(x) for x in samples)))
        results.append(result)
    return dataclasses.replace(report, results=tuple(results))


# Every text Plotly drew, with its box relative to the figure, and the figure's size.
_TEXTS = """() => {
    const figure = document.querySelector('.js-plotly-plot');
    const frame = figure.getBoundingClientRect();
    const texts = [...figure.querySelectorAll('svg text')].filter(
        t => t.textContent.trim() && t.getBoundingClientRect().width > 0
             && getComputedStyle(t).visibility !== 'hidden' && t.closest('.hoverlayer') === null);
    return {width: frame.width, height: frame.height, texts: texts.map(t => {
        const r = t.getBoundingClientRect();
        return {text: t.textContent, cls: t.getAttribute('class') || t.parentNode.getAttribute('class'),
                left: r.left - frame.left, top: r.top - frame.top, right: r.right - frame.left,
                bottom: r.bottom - frame.top};
    })};
}"""


def _overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack)


def test_no_text_overlaps_or_is_cut_off_in_any_figure(reports, browser):
    page = browser.new_page()
    problems = []
    plotly_js = plotly.offline.get_plotlyjs()
    for (name, figure), width in itertools.product(list(figures(reports)), WIDTHS):
        figure.update_layout(width=width)
        page.set_content(f"<html><head><script>{plotly_js}</script></head><body>"
                         f"{figure.to_html(full_html=False, include_plotlyjs=False)}</body></html>")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        drawn = page.evaluate(_TEXTS)
        texts = drawn["texts"]
        assert texts, name
        for a, b in itertools.combinations(texts, 2):
            if _overlap(a, b):
                problems.append(f"{name} @{width}px: {a['text']!r} ({a['cls']}) overlaps "
                                f"{b['text']!r} ({b['cls']})")
        for t in texts:
            if t["left"] < -1 or t["top"] < -1 or t["right"] > drawn["width"] + 1 \
                    or t["bottom"] > drawn["height"] + 1:
                problems.append(f"{name} @{width}px: {t['text']!r} ({t['cls']}) is cut off")
    page.close()
    assert not problems, "\n".join(problems)


def test_the_breakdown_legend_names_only_what_the_chart_draws(reports):
    for report in reports.values():
        figure = charts.time_breakdown(report)
        for trace in figure.data:
            assert any(value for value in trace.x), f"{trace.name} is in the legend, not drawn"


def test_count_axes_have_whole_number_ticks(reports, browser):
    """A pass that changed nothing must not give the node-delta axis ticks at -0.5 and 0.5."""
    page = browser.new_page()
    for report in reports.values():
        for result in report.results:
            if not result.grappler_passes:
                continue
            figure = charts.grappler_passes(report, result.mode)
            page.set_content(f"<html><head><script>{plotly.offline.get_plotlyjs()}</script>"
                             f"</head><body>{figure.to_html(full_html=False, include_plotlyjs=False)}"
                             "</body></html>")
            page.wait_for_selector(".js-plotly-plot .main-svg")
            ticks = page.eval_on_selector_all(".xtick text", "ts => ts.map(t => t.textContent)")
            assert ticks and all(float(t.replace("\u2212", "-")).is_integer() for t in ticks), \
                (result.mode, ticks)
    page.close()
