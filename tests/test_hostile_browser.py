"""The hostile user on the team dashboard, in chromium against a real OIDC provider: alice's
private run, its Re-run and its Edit-as-new never show for bob, not even as a filter choice;
user text (title, tag, function, file name, error message) is shown as text, and no page or
HTML report makes a request outside the dashboard's origin."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from pathlib import Path

import pytest

from inspector.errors import ErrorInfo
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.output.html_report import html_report
from inspector.report import ModeResult, Report
from inspector.store.runs import RunStore
from tests.test_signin import USERS, _sign_in, dashboard  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SECRET_FUNCTION = "alice_secret_fn"
SECRET_TAG = "alice-secret-tag"


@pytest.fixture(scope="module")
def listener():
    """An HTTP server on 127.0.0.1 that records every request (a tracking pixel's host)."""
    hits: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's name)
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def _issuer(runs: dict[str, str], data: Path) -> str:
    store = RunStore(data=data)
    owner = store.summary(runs["alice-team"]).owner
    store.close()
    return owner.split("|")[0]


@pytest.fixture(scope="module")
def seeded(dashboard, listener):  # noqa: F811 (the imported fixture)
    """Alice's private run of a function no one else has, with a tag; and a team run whose
    every user-controlled text is Markdown pointing at the listener."""
    url, runs, data = dashboard
    base, _ = listener
    issuer = _issuer(runs, data)
    store = RunStore(data=data)
    source = Source(f"def {SECRET_FUNCTION}(x):\n    return x + 1.0\n", "secret.py")
    secret = store.save(prepare(source, SECRET_FUNCTION, ["float32[4]"], ["spec"]), {},
                        Report(tensorflow="2.21.0", function=SECRET_FUNCTION),
                        owner=f"{issuer}|alice", owner_name="Alice", visibility="private",
                        tags=[SECRET_TAG])
    evil = (f"![t]({base}/title.png) [l]({base}/link) <img src={base}/html.png> :red[x] $x$ "
            ":material/skull: :streamlit: a|b")
    request = prepare(Source("def f(x):\n    return x\n", "p.py"), "f", ["float32[4]"],
                      ["spec"])
    request = dataclasses.replace(request, function=f"![f]({base}/function.png)",
                                  source=Source(request.source.text, f"![s]({base}/file.png).py"))
    report = Report(tensorflow="2.21.0", function=request.function, source=request.source_label,
                    error=ErrorInfo("UserCodeError", f"raised {evil}"))
    hostile = store.save(request, {}, report, owner=f"{issuer}|alice", owner_name="Alice",
                         title=evil, tags=[f"![g]({base}/tag.png)"])
    # A mode's error: the matrix's error cell (one Markdown table) and the error above it.
    failed = dataclasses.replace(report, error=None, modes=("spec",), results=(
        ModeResult("spec", error=ErrorInfo("UserCodeError", f"raised {evil}")),))
    in_matrix = store.save(request, {}, failed, owner=f"{issuer}|alice", owner_name="Alice")
    store.close()
    return {**runs, "secret": secret, "hostile": hostile, "in-matrix": in_matrix, "evil": evil,
            "report": report}


def _watch(page, origin: str) -> list[str]:
    """Every request the page makes outside the dashboard's origin."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((origin, "data:", "blob:")) else None)
    return outside


def _no_markup(page, base: str) -> None:
    port = base.rsplit(":", 1)[1]
    for selector in (f"img[src*='{port}']", f"a[href*='{port}']", "span.stMarkdownColoredText",
                     "[aria-label='skull icon']", "img[alt='Streamlit logo']"):
        found = page.locator(selector)
        assert found.count() == 0, (selector, [found.nth(i).evaluate("e => e.outerHTML")[:300]
                                               for i in range(min(found.count(), 3))])


def test_alices_private_run_stays_private_through_rerun_and_edit_as_new(
        dashboard, browser, seeded):  # noqa: F811
    url, _, data = dashboard
    context, page = _sign_in(browser, url, "alice")
    for action in ("Re-run", "Edit as new"):
        page.goto(f"{url}/?run={seeded['secret']}")
        page.get_by_role("button", name=action).click(timeout=60_000)
        page.get_by_text("Advanced").first.click(timeout=60_000)
        # The form shows what runs: alice's function, and the run stays private.
        assert page.get_by_label("Private run (only you and admins see it)").is_checked()
        assert SECRET_FUNCTION in page.locator("textarea").first.input_value()
        if action == "Edit as new":
            page.get_by_role("button", name="Inspect").click()
        page.locator("text=/Run [A-Za-z0-9_-]{11} · saved/").first.wait_for(timeout=180_000)
    store = RunStore(data=data)
    mine = [s for s in store.find() if s.function == SECRET_FUNCTION]
    store.close()
    assert len(mine) == 3 and {s.visibility for s in mine} == {"private"}, mine
    context.close()
    # Bob: none of the three anywhere, not even as a filter choice.
    context, page = _sign_in(browser, url, "bob")
    page.goto(url + "/history")
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert not any(s.id in (page.content()) for s in mine)
    for label in ("Function", "Tag"):
        box = page.locator("[data-testid=stSelectbox]").filter(has_text=label)
        box.click()
        options = page.locator("[role=option]").all_text_contents()
        assert options and SECRET_FUNCTION not in options and SECRET_TAG not in options
        page.keyboard.press("Escape")
    for s in mine:
        page.goto(f"{url}/?run={s.id}")
        page.get_by_text("RunNotFound").wait_for(timeout=30_000)
        page.goto(f"{url}/compare?compare={seeded['alice-team']},{s.id}")
        page.get_by_text("RunNotFound").wait_for(timeout=30_000)
        assert SECRET_FUNCTION not in page.content()
    context.close()


def test_user_text_is_text_on_every_page_and_in_the_html_report(
        dashboard, browser, seeded, listener, tmp_path):  # noqa: F811
    url, _, _ = dashboard
    base, hits = listener
    context, page = _sign_in(browser, url, "bob")
    outside = _watch(page, url)
    visits = [(f"{url}/history", None),
              (f"{url}/?run={seeded['hostile']}", "UserCodeError"),
              (f"{url}/?run={seeded['in-matrix']}", "UserCodeError"),
              (f"{url}/compare?compare={seeded['hostile']},{seeded['alice-team']}", "Source")]
    for address, wait_for in visits:
        page.goto(address)
        if wait_for:
            page.get_by_text(wait_for).first.wait_for(timeout=60_000)
        else:
            page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        _no_markup(page, base)
    # The title reads as written, brackets and all.
    page.goto(f"{url}/?run={seeded['hostile']}")
    page.get_by_text("UserCodeError").first.wait_for(timeout=60_000)
    text = page.evaluate("document.body.innerText").replace("\u2060", "")
    assert f"![t]({base}/title.png)" in text and f"<img src={base}/html.png>" in text
    context.close()
    # The HTML report, opened offline.
    report_file = tmp_path / "report.html"
    report_file.write_text(html_report(seeded["report"]), encoding="utf-8")
    offline = browser.new_context()
    offline_page = offline.new_page()
    requests = []
    offline_page.on("request", lambda r: requests.append(r.url))
    offline_page.goto(report_file.as_uri())
    offline_page.wait_for_timeout(1000)
    _no_markup(offline_page, base)
    assert [r for r in requests if not r.startswith("file:")] == []
    offline.close()
    assert outside == [] and hits == [], (outside, hits)
