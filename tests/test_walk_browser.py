"""A new user's walk in chromium: every result tab for seed example 1, a pasted function with
a while loop, and ResNet50 picked from the gallery picker (not from a URL). No tab shows an
error or an exception, no chart's text overlaps, all seven modes can be seen at once, and the
screenshots land in tests/artifacts/walk (the README's pictures in docs/ come from them)."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import expect

from inspector.inputs import gallery
from tests.conftest import SERVER_LOG
from tests.helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.worker]
SHOTS = ROOT / "tests" / "artifacts" / "walk"
TABS = ("Matrix", "Graphs", "Rewrites", "Shapes", "Retracing", "Grappler passes", "Timing",
        "XLA", "Export")
LOOP = ("import tensorflow as tf\n\ndef f(x):\n"
        "    if tf.reduce_sum(x) > 0:\n        x = tf.square(x)\n"
        "    return tf.while_loop(lambda i, y: i < 50, lambda i, y: (i + 1, tf.tanh(y)), "
        "[0, x])[1]\n")
# Every text in the visible Plotly figures, with its box.
_CHART_TEXTS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(f => f.getBoundingClientRect().width > 0)
    .map(f => [...f.querySelectorAll('svg text')]
        .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0
                     && t.closest('.hoverlayer') === null)
        .map(t => { const r = t.getBoundingClientRect();
                    return [t.textContent, r.left, r.top, r.right, r.bottom]; }))"""


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``label``, as a person does."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    expect(box).to_have_value(option, timeout=30_000)


def _no_error_shown(page, where: str) -> None:
    page.wait_for_timeout(300)
    for selector in ("[data-testid=stException]", "[data-testid=stAlertContentError]"):
        found = page.locator(selector)
        assert found.count() == 0, f"{where}: {found.first.inner_text()[:500]}"


def _no_chart_text_overlaps(page, where: str) -> None:
    for texts in page.evaluate(_CHART_TEXTS):
        for a, b in itertools.combinations(texts, 2):
            wide = min(a[3], b[3]) - max(a[1], b[1])
            tall = min(a[4], b[4]) - max(a[2], b[2])
            assert not (wide > 1 and tall > 1), f"{where}: {a[0]!r} overlaps {b[0]!r}"


def _inspect_and_walk(page, name: str, wait_s: float = 120) -> None:
    saved = page.get_by_text("· saved")
    before = saved.first.inner_text() if saved.count() else None
    page.get_by_role("button", name="Inspect").click()
    # The new run's header (the previous run's tabs stay until the job starts).
    page.wait_for_function(
        "before => [...document.querySelectorAll('p')].some(p => p.innerText.includes('· saved')"
        " && p.innerText !== before)", arg=before, timeout=wait_s * 1000)
    page.screenshot(path=str(SHOTS / f"{name}-start.png"))
    _no_error_shown(page, f"{name} / after Inspect")
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        panel = page.locator("[role=tabpanel]:visible").first
        panel.wait_for(timeout=30_000)
        if tab == "Matrix":
            panel.locator("[data-testid=stMarkdown] table").first.wait_for(timeout=30_000)
        if tab in ("Graphs", "Grappler passes"):
            viewer = page.locator("[role=tabpanel]:visible .gv-viewer")
            if viewer.count():
                viewer.first.locator("svg g.node").first.wait_for(timeout=60_000)
        if tab == "Timing":
            page.locator(".js-plotly-plot:visible .main-svg").first.wait_for(timeout=30_000)
        page.wait_for_timeout(800)
        _no_error_shown(page, f"{name} / {tab}")
        _no_chart_text_overlaps(page, f"{name} / {tab}")
        page.locator("[role=tablist]").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{tab.lower().replace(' ', '-')}.png"))


def _follows_then_cancels(page) -> None:
    """A long job's stage shows as it changes (each poll waits in the server for the next
    change or the end, issue 24), and Cancel ends it within a poll."""
    page.get_by_role("button", name="Inspect").click()
    progress = page.locator("[data-testid=stAlertContentInfo]").filter(has_text="(run ")
    expect(progress.first).to_be_visible(timeout=30_000)
    stage = progress.first.inner_text().split(" (run ")[0]
    expect(progress.first).not_to_contain_text(stage + " (run ", timeout=30_000)
    page.get_by_role("button", name="Cancel").click()
    expect(progress).to_have_count(0, timeout=10_000)
    expect(page.get_by_text("the job was cancelled").first).to_be_visible(timeout=5_000)
    page.screenshot(path=str(SHOTS / "resnet50-cancelled.png"))


def test_a_new_users_walk_through_every_tab(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server)
    page.get_by_role("button", name="Inspect").wait_for(timeout=60_000)

    # All seven modes chosen: each one still shows (the old box scrolled eager and numpy away).
    modes = page.locator(".st-key-modes")
    for mode in ("tensor", "reduce-retracing", "xla"):
        modes.get_by_role("button", name=mode, exact=True).click()
        expect(modes.get_by_role("button", name=mode, exact=True)).to_have_attribute(
            "aria-pressed", "true")
    box = modes.bounding_box()
    for mode in ("eager", "numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing", "xla"):
        pill = modes.get_by_role("button", name=mode, exact=True).bounding_box()
        assert box["x"] <= pill["x"] and pill["x"] + pill["width"] <= box["x"] + box["width"] + 1
    page.screenshot(path=str(SHOTS / "modes.png"))
    for mode in ("tensor", "reduce-retracing", "xla"):  # back to the four defaults
        modes.get_by_role("button", name=mode, exact=True).click()
        expect(modes.get_by_role("button", name=mode, exact=True)).to_have_attribute(
            "aria-pressed", "false")

    _inspect_and_walk(page, "seed1")

    _pick(page, "Function", "(paste your own code)")
    code = page.get_by_role("textbox", name="Python source")
    code.fill(LOOP)
    code.press("Control+Enter")
    page.wait_for_timeout(1000)
    _inspect_and_walk(page, "loop")

    # ResNet50 from the picker: its own calls come with it.
    _pick(page, "Function", f"resnet50: {gallery.get('resnet50').title}")
    calls = page.get_by_role("textbox", name="Calls, one per line")
    expect(calls).to_have_value("\n".join(gallery.get("resnet50").calls), timeout=30_000)
    for mode in ("eager", "spec-dynamic"):  # numpy and spec: the seed's question
        modes.get_by_role("button", name=mode, exact=True).click()
        expect(modes.get_by_role("button", name=mode, exact=True)).to_have_attribute(
            "aria-pressed", "false")
    _follows_then_cancels(page)
    _inspect_and_walk(page, "resnet50", wait_s=300)
    _moves_through_resnet50(page)
    _the_html_report_moves_offline(page, browser)
    _compares_two_runs_in_the_same_tab(page, server)
    page.close()
    assert not errors
    # Every picture went through the viewer (a components.v2 component): Streamlit's warning
    # for the deprecated components.v1.html, once per picture before, is gone.
    log = SERVER_LOG.read_text("utf-8", errors="replace")
    assert "will be removed" not in log and "deprecat" not in log.lower(), log[-2000:]


def _scale(page, index: int = 0) -> float:
    """The viewer's zoom: the first number of its viewport's transform matrix."""
    transform = page.locator(".gv-stage svg .svg-pan-zoom_viewport").nth(index).get_attribute(
        "transform")
    return float(transform.split("(", 1)[1].split(",", 1)[0])


def _pan(page, index: int = 0) -> tuple[float, float]:
    transform = page.locator(".gv-stage svg .svg-pan-zoom_viewport").nth(index).get_attribute(
        "transform")
    numbers = [float(n) for n in transform.split("(", 1)[1].rstrip(")").split(",")]
    return numbers[4], numbers[5]


def _inside(inner: dict, outer: dict) -> bool:
    return (outer["x"] <= inner["x"] + inner["width"] / 2 <= outer["x"] + outer["width"]
            and outer["y"] <= inner["y"] + inner["height"] / 2 <= outer["y"] + outer["height"])


def _drives_the_viewer(page, stages, search, details) -> None:
    """What a person does with the viewer, wherever it is: wheel-zoom, drag one pane (the
    other follows), search conv4_block3_2_conv (the view pans to it, outlined), click a node
    (``details`` names it). ``search(text)`` types into that page's search."""
    stage = stages.first.bounding_box()
    page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    before = _scale(page)
    page.mouse.wheel(0, -400)
    expect(stages.first.locator("svg")).to_be_visible()
    page.wait_for_timeout(400)
    assert _scale(page) > before * 1.1, "the wheel zooms in"
    other = _pan(page, 1)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] / 2 - 150, stage["y"] + stage["height"] / 2 - 90,
                    steps=8)
    page.mouse.up()
    page.wait_for_timeout(400)
    assert _pan(page, 1) != other, "panning one side moves the other (sync)"
    search("conv4_block3_2_conv")
    current = stages.locator("g.node.gv-current").first
    current.wait_for(timeout=30_000)
    assert "conv4_block3_2_conv" in current.locator("title").first.text_content()
    page.wait_for_timeout(400)
    assert any(_inside(current.bounding_box(), stage.bounding_box()) for stage in stages.all()), \
        "the view panned to the match"
    node = page.evaluate_handle("""() => {
        const stages = [...document.querySelectorAll('*')].map(e => e.shadowRoot)
            .filter(Boolean).flatMap(r => [...r.querySelectorAll('.gv-stage')]);
        const all = [...document.querySelectorAll('.gv-stage'), ...stages];
        for (const stage of all) {
            const box = stage.getBoundingClientRect();
            for (const g of stage.querySelectorAll('g.node')) {
                const r = g.getBoundingClientRect();
                const title = g.querySelector('title').textContent;
                if (!title.endsWith('/') && r.left > box.left + 10 && r.right < box.right - 200
                    && r.top > box.top + 10 && r.bottom < box.bottom - 160) return g;
            }
        }
        return null; }""").as_element()
    assert node is not None, "a plain node in view"
    name = node.query_selector("title").text_content()
    node.click()
    details(name)
    page.wait_for_timeout(1500)  # the app redraws after the click: the outline must stay on it
    expect(stages.locator("g.node.gv-selected title").first).to_have_text(name)


def _moves_through_resnet50(page) -> None:
    """Issue 26: the Graphs tab's viewer on ResNet50, before | after in sync."""
    page.get_by_role("tab", name="Graphs").click()
    stages = page.locator("[role=tabpanel]:visible .gv-stage")
    stages.first.locator("svg g.node").first.wait_for(timeout=60_000)
    assert stages.count() == 2
    stages.first.scroll_into_view_if_needed()

    def search(text: str) -> None:
        box = page.get_by_role("textbox", name="Find node")
        box.fill(text)
        box.press("Enter")

    def details(name: str) -> None:  # the node panel follows the click
        picker = page.get_by_role("combobox", name=re.compile("^Node details"))
        expect(picker).to_have_value(name, timeout=30_000)
        expect(page.locator("[data-testid=stTable]").last).to_contain_text(
            "before Grappler", timeout=30_000)

    _drives_the_viewer(page, stages, search, details)
    page.wait_for_timeout(800)
    stages.first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "viewer.png"))


def _the_html_report_moves_offline(page, browser) -> None:
    """The same moves in the HTML report from the Export tab, with the network cut."""
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="HTML report").click()
    report = browser.new_page(viewport={"width": 1500, "height": 1100})
    left: list[str] = []
    problems: list[str] = []
    report.on("pageerror", lambda exc: problems.append(str(exc)))
    report.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        "file://") else (left.append(route.request.url), route.abort()))
    saved = SHOTS / "resnet50-report.html"  # the download's own file has no .html name
    download.value.save_as(saved)
    report.goto(saved.as_uri())
    host = report.locator(".gv-host.pre-post").first
    host.locator(".gv-viewer[data-ready]").wait_for(timeout=60_000)
    host.scroll_into_view_if_needed()
    stages = host.locator(".gv-stage")

    def search(text: str) -> None:
        host.locator(".gv-search").fill(text)

    def details(name: str) -> None:
        expect(host.locator(".gv-details")).to_contain_text(name, timeout=10_000)

    _drives_the_viewer(report, stages, search, details)
    report.screenshot(path=str(SHOTS / "viewer-html.png"))
    report.close()
    assert not left and not problems, (left, problems)


def _compares_two_runs_in_the_same_tab(page, server: str) -> None:
    """History: tick the two newest runs, click Compare: the comparison opens in this tab (it
    opened a new one), inputs first."""
    page.goto(server + "/history")
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    box = grid.bounding_box()
    for row in (0, 1):  # the row markers: the grid's first column, under its 35 px header
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17 + 35 * row)
        page.wait_for_timeout(800)
    link = page.locator("[data-testid=stMain] [data-testid=stPageLink]").get_by_role(
        "link", name="Compare")
    link.wait_for(timeout=30_000)
    tabs = len(page.context.pages)
    link.click()
    page.get_by_text("Inputs").first.wait_for(timeout=30_000)
    expect(page.locator("[data-testid=stTable]").first).to_contain_text("Grappler overrides",
                                                                         timeout=60_000)
    assert len(page.context.pages) == tabs and "compare=" in page.url
    page.screenshot(path=str(SHOTS / "compare.png"))
