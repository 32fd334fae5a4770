"""Sign-in through a real OIDC provider on 127.0.0.1 (oidc-provider-mock), in chromium: two
users see their own and team runs, never the other's private run; neither can delete the
other's run; sign-out works; a third user outside the allowed domain is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.report import GraphSummary, ModeResult, Report
from inspector.store.runs import RunStore
from tests.helpers import ROOT, fixture_graphs, free_port, stop_group, wait_for

pytestmark = pytest.mark.browser
USERS = {"alice": "Alice", "bob": "Bob"}
# Signs in at the provider but is outside the settings' allowed domain.
OUTSIDER = "eve"


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """The mock provider, a store with each user's team and private runs, and the app."""
    folder = tmp_path_factory.mktemp("signin")
    provider_port, app_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    claims = [json.dumps({"sub": sub, "email": f"{sub}@example.com", "name": name})
              for sub, name in USERS.items()]
    claims.append(json.dumps({"sub": OUTSIDER, "email": f"{OUTSIDER}@outsider.org",
                              "name": "Eve"}))
    provider = _start([sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "--port",
                       str(provider_port), *sum((["--user-claims", c] for c in claims), [])],
                      dict(os.environ))
    secrets = folder / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "a-test-cookie-secret"
[auth.mock]
client_id = "inspector"
client_secret = "inspector-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
""")
    settings = folder / "inspector.toml"
    settings.write_text('[access]\nallowed_domains = ["example.com"]\n')
    env = {**os.environ, "INSPECTOR_DATA": str(folder / "data"),
           "INSPECTOR_CONFIG": str(settings)}
    runs = _fill(folder / "data", issuer)
    app = _start([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless",
                  "true", "--server.port", str(app_port), "--server.address", "127.0.0.1",
                  "--secrets.files", str(secrets)], env)
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration")
        wait_for(f"http://127.0.0.1:{app_port}/_stcore/health")
        yield f"http://127.0.0.1:{app_port}", runs, folder / "data"
    finally:
        stop_group(app)
        stop_group(provider)


def _fill(data: Path, issuer: str) -> dict[str, str]:
    """One team and one private run per user, keyed as the app keys them (iss|sub)."""
    graphs = fixture_graphs()
    store = RunStore(data=data)
    runs = {}
    for sub, name in USERS.items():
        for visibility in ("team", "private"):
            result = ModeResult("spec", traces=1, post=GraphSummary(len(graphs.post.node), {}),
                                graphs={"pre": graphs.pre.SerializeToString(),
                                        "post": graphs.post.SerializeToString()})
            report = Report(tensorflow="2.21.0", function="f", modes=("spec",),
                            results=(result,))
            request = prepare(Source("def f(x):\n    return x\n", "p.py"), "f", ["float32[4]"],
                              ["spec"])
            runs[f"{sub}-{visibility}"] = store.save(
                request, {"timeout_s": 60.0}, report, owner=f"{issuer}|{sub}",
                owner_name=name, visibility=visibility, title=f"{name}'s {visibility} run")
    store.close()
    return runs


def _sign_in(browser, url: str, sub: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=sub, exact=True).click()  # the provider's user picker
    page.get_by_text(f"Signed in as {USERS[sub]}").wait_for(timeout=60_000)
    return context, page


def _history_text(page, url: str) -> str:
    page.goto(url + "/history")
    page.get_by_text("Created between").wait_for(timeout=60_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    return page.locator("[data-testid=stDataFrame]").first.text_content() or ""


@pytest.mark.parametrize("me, other", [("alice", "bob"), ("bob", "alice")])
def test_two_users_share_team_runs_keep_private_ones_and_cannot_delete_each_others(
        dashboard, browser, me, other):
    url, runs, _ = dashboard
    context, page = _sign_in(browser, url, me)
    listed = _history_text(page, url)
    for run in (f"{me}-team", f"{me}-private", f"{other}-team"):
        assert runs[run] in listed, run
    assert runs[f"{other}-private"] not in listed
    # The other's team run opens, without Delete; their private run does not open at all.
    page.goto(f"{url}/?run={runs[f'{other}-team']}")
    page.get_by_text(f"{USERS[other]}'s run (team)").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Delete").count() == 0
    page.goto(f"{url}/?run={runs[f'{other}-private']}")
    page.get_by_text("RunNotFound").wait_for(timeout=30_000)
    # Their own run has Delete (not pressed: the other user's test needs the runs).
    page.goto(f"{url}/?run={runs[f'{me}-team']}")
    page.get_by_role("button", name="Delete").wait_for(timeout=30_000)
    page.screenshot(path=str(ROOT / "tests" / "artifacts" / f"signed-in-{me}.png"))
    page.get_by_role("button", name="Sign out").click()
    # Streamlit ends the session at the provider too (RP-initiated logout), which asks first.
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    context.close()


def test_a_user_outside_the_allowed_domain_is_refused_and_nothing_runs(dashboard, browser):
    url, runs, _ = dashboard
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=OUTSIDER, exact=True).click()
    page.get_by_text("which this dashboard does not admit").wait_for(timeout=60_000)
    shown = (page.locator("[data-testid=stAlert]").first.text_content() or "")
    assert "eve@outsider.org" in shown.replace("\u2060", "")  # the word joiner keeps it text
    page.screenshot(path=str(ROOT / "tests" / "artifacts" / "refused.png"))
    # No form to run anything, and no saved run opens either.
    assert page.get_by_role("button", name="Inspect").count() == 0
    page.goto(f"{url}/?run={runs['alice-team']}")
    page.get_by_text("which this dashboard does not admit").wait_for(timeout=30_000)
    assert page.get_by_text("Alice's team run").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    context.close()


def test_the_store_refuses_to_delete_another_users_run(dashboard):
    url, runs, _ = dashboard
    from inspector.errors import NotAllowed

    store = RunStore(data=Path(os.environ["INSPECTOR_DATA"]))  # any store: the rule is the API's
    run = store.save(prepare(Source("def f(x):\n    return x\n", "p.py"), "f", ["float32[4]"],
                             ["spec"]), {}, Report(tensorflow="2.21.0"), owner="iss|alice")
    with pytest.raises(NotAllowed):
        store.delete(run, by="iss|bob")
    store.delete(run, by="iss|alice")
    store.close()
