"""The app in a real browser (Debian's chromium through Playwright): run seed example 3."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.helpers import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "tests" / "artifacts"
ARTIFACTS.mkdir(parents=True, exist_ok=True)


def shot(page, name: str) -> None:
    """Scroll the open tab into view (Streamlit scrolls inside its own container) and save it."""
    page.locator("[role=tabpanel]:visible").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_seed_example_three_in_a_browser(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/?entry=process_variable_data&mode=numpy&mode=spec&mode=spec-dynamic")
    page.get_by_role("button", name="Inspect").click()
    page.get_by_role("tab", name="Matrix").wait_for(timeout=120_000)
    page.get_by_text("Constant with fixed shapes").wait_for(timeout=30_000)
    matrix = page.locator("[data-testid=stMarkdown] table").first
    for mode in ("numpy", "spec", "spec-dynamic"):
        assert mode in matrix.inner_text()
    shot(page, "matrix")
    run_url = page.locator("[data-testid=stCode]", has_text="?run=").first.inner_text().strip()
    saved_matrix = matrix.inner_text()
    _a_source_line_opens_its_nodes(page)
    page.get_by_role("tab", name="Graphs").click()
    pictures = page.locator("[role=tabpanel]:visible .gv-stage")
    pictures.first.locator("svg g.node").first.wait_for(timeout=30_000)
    assert pictures.count() == 2  # before | after, side by side in one viewer
    shot(page, "graphs")
    page.get_by_role("textbox", name="Find node").fill("Identity")
    page.get_by_role("textbox", name="Find node").press("Enter")
    pictures.last.locator('svg g.node path[stroke="#d62728"]').first.wait_for(
        timeout=30_000)  # the match is outlined in the picture
    page.get_by_text("Node details").wait_for()
    page.get_by_text("Identity: removed").wait_for(timeout=30_000)  # the panel followed
    panel = page.locator("[data-testid=stTable]").last
    # The panel redraws after the picker's label: wait for its text, not just its presence.
    expect(panel).to_contain_text("(not in this graph)", timeout=30_000)
    assert "Identity" in panel.inner_text()
    assert " by " in page.get_by_text("Identity: removed").first.inner_text()  # its pass
    shot(page, "graphs-search")
    _steps_through_the_passes(page)
    page.get_by_role("tab", name="Timing").click()
    page.locator(".js-plotly-plot:visible").first.wait_for(timeout=30_000)
    page.get_by_text("Where one call's time goes").wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot:visible").count() == 3  # the breakdown's stacked bars
    shot(page, "timing")
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="JSON report").click()
    assert download.value.suggested_filename == "process_variable_data-report.json"
    with page.expect_download() as download:
        page.get_by_role("button", name="diff .svg").first.click()
    assert download.value.suggested_filename == "process_variable_data-numpy-diff.svg"
    svg = open(download.value.path(), encoding="utf-8").read()
    assert "<svg" in svg and "process_variable_data" not in svg[:0]
    page.close()
    assert not errors
    _opens_from_its_link_without_a_worker(browser, run_url, saved_matrix)


def _a_source_line_opens_its_nodes(page) -> None:
    """Source tab (issue 25): the line that made the graph's node, per mode side by side; a
    click on its row opens Graphs searching "line 5", its node outlined and named in the panel
    with the line it came from."""
    page.get_by_role("tab", name="Source").click()
    grid = page.locator("[data-testid=stDataFrame]:visible").first
    grid.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    shot(page, "source")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)  # the first row's marker: line 5
    search = page.get_by_role("textbox", name="Find node")
    expect(search).to_have_value("line 5", timeout=30_000)
    pictures = page.locator("[role=tabpanel]:visible .gv-stage")
    pictures.last.locator("svg g.node.gv-match").first.wait_for(timeout=30_000)
    page.get_by_text("Made by line 5").wait_for(timeout=30_000)
    assert "tf.reduce_sum(data)" in page.get_by_text("Made by line 5").first.inner_text()
    shot(page, "source-to-graphs")
    page.get_by_role("textbox", name="Find node").fill("")
    page.get_by_role("textbox", name="Find node").press("Enter")


def _steps_through_the_passes(page) -> None:
    """The Grappler passes tab: the options table, and a stepper whose pictures show the graph
    before and after the chosen pass."""
    page.get_by_role("tab", name="Grappler passes").click()
    page.get_by_text("The passes and the options in force").wait_for(timeout=30_000)
    slider = page.get_by_role("slider")
    slider.first.wait_for(timeout=30_000)
    page.get_by_text("Step only through passes that changed something").click()
    expect(slider.first).not_to_have_attribute("max", "0", timeout=30_000)
    first_step = slider.first.get_attribute("aria-valuetext")
    pictures = page.locator("[role=tabpanel]:visible .gv-stage")
    pictures.last.locator("svg g.node").first.wait_for(timeout=30_000)
    slider.first.focus()
    page.keyboard.press("End")  # the last pass that changed something
    expect(slider.first).not_to_have_attribute("aria-valuetext", first_step or "",
                                               timeout=30_000)
    pictures.last.locator("svg g.node").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    shot(page, "passes")


def _runs_started() -> int:
    """Runs in the app's store: every job the app submits starts one (job folders are removed
    when their job ends, so they cannot be counted)."""
    from inspector.store.runs import RunStore

    store = RunStore()
    try:
        return store.count()
    finally:
        store.close()


def _opens_from_its_link_without_a_worker(browser, run_url: str, saved_matrix: str) -> None:
    """The run made above, opened from its link in a fresh browser context (no cookies, no
    session): the same matrix and graphs, read from the store; no worker starts a job."""
    assert "?run=" in run_url
    runs_before = _runs_started()
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.goto(run_url)
    page.get_by_role("tab", name="Matrix").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stMarkdown] table").first.inner_text() == saved_matrix
    page.get_by_role("tab", name="Graphs").click()
    page.locator(".gv-stage svg g.node").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "saved-run.png"))
    context.close()
    assert _runs_started() == runs_before


def test_html_report_opens_offline_with_graphs_and_charts(tmp_path, browser):
    html = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "inspector", "inspect",
                           "gallery:process_variable_data", "--mode", "numpy", "--mode", "spec",
                           "--mode", "spec-dynamic", "--runs", "20", "--html", str(html)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" else None)
    left: list[str] = []

    def offline(route):
        if not route.request.url.startswith("file://"):
            left.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", offline)
    page.goto(html.as_uri())
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 2  # box plot and ECDF at least
    page.locator(".gv-viewer[data-ready]").first.wait_for(timeout=30_000)
    for mode in ("numpy", "spec", "spec-dynamic"):  # every mode's pictures in the viewer
        section = page.locator(f"#mode-{mode} ~ div.gv-host.pre-post").first
        assert section.locator(".gv-stage svg g.node").count() > 0
    # pre | post (one viewer, two panes), diff and executed for three modes
    assert page.locator("div.gv-host.pre-post .gv-stage").count() == 6
    assert page.locator("div.gv-host.diff .gv-stage").count() == 3
    assert page.locator("div.gv-host.executed .gv-stage").count() == 3
    assert page.locator("div.gv-host.pattern .gv-stage").count() >= 3  # one per pattern
    # The per-pass section: a table per mode and a picture of each pass that changed something.
    assert page.locator("div.gv-host.pass .gv-stage").count() >= 3
    assert page.locator(".gv-host").count() == page.locator(".gv-viewer[data-ready]").count()
    assert "constant_folding" in page.locator("#mode-spec ~ table").nth(2).inner_text() or \
        page.get_by_text("constant_folding").count() > 0
    assert "spec-dynamic" in page.locator("table").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "html-report.png"))
    page.close()
    assert not left, f"the report asked the network for {left}"
    assert not problems
