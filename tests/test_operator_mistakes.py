"""The careless operator: a missing or misspelled secrets file, a wrong store password, a CLI
pointed at the settings file, ``serve`` started from another folder. Each ends in a clear
refusal or in the right store, never in an open dashboard or the wrong store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.report import Report
from inspector.store.runs import RunStore
from tests.helpers import free_port, shown, stop_group, wait_for

CLI = str(Path(sys.executable).parent / "tf-graph-inspector")
ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def provider():
    """A real OIDC provider (oidc-provider-mock) on 127.0.0.1: its metadata URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "oidc_provider_mock",
                                "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    try:
        wait_for(url)
        yield url
    finally:
        stop_group(process)


def _settings(folder: Path, text: str = "", port: int = 8621) -> Path:
    path = folder / "inspector.toml"
    path.write_text(f"[server]\nport = {port}\n{text}")
    return path


def _secrets(folder: Path, metadata_url: str, port: int = 8621, section: str = "auth",
             extra: str = "") -> Path:
    path = folder / "secrets.toml"
    path.write_text(f"""
[{section}]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret"
{extra}
[{section}.mock]
client_id = "inspector"
client_secret = "inspector-secret"
server_metadata_url = "{metadata_url}"
""")
    return path


def test_a_working_sign_in_passes_the_check_and_names_its_store(tmp_path, provider):
    done = _cli("serve", "--config", str(_settings(tmp_path)), "--secrets",
                str(_secrets(tmp_path, provider)), "--check")
    assert done.returncode == 0, done.stderr
    assert "sign-in through" in done.stdout and "store: sqlite:///" in done.stdout


@pytest.mark.parametrize("mistake, fragment", [
    ("missing", "cannot read the secrets file"),
    ("auht", "has no [auth] section"),
    ("unknown key", "unknown key [auth] redirect_url"),
    ("port", "names port 8999, but the dashboard serves on port 8621"),
    ("provider down", "cannot read the sign-in provider's metadata"),
])
def test_serve_refuses_a_sign_in_that_would_not_work(tmp_path, provider, mistake, fragment):
    """Before this, each of these served an open dashboard as the admin user local."""
    settings = _settings(tmp_path, '[access]\nallowed_domains = ["example.com"]\n')
    secrets = {
        "missing": lambda: tmp_path / "no-such-secrets.toml",
        "auht": lambda: _secrets(tmp_path, provider, section="auht"),
        "unknown key": lambda: _secrets(tmp_path, provider, extra='redirect_url = "x"'),
        "port": lambda: _secrets(tmp_path, provider, port=8999),
        "provider down": lambda: _secrets(tmp_path, f"http://127.0.0.1:{free_port()}/.well-known"),
    }[mistake]()
    for check in (["--check"], []):  # serving refuses exactly as the check does
        done = _cli("serve", "--config", str(settings), "--secrets", str(secrets), *check)
        assert done.returncode == 2, (mistake, done.stdout, done.stderr)
        assert fragment in done.stderr and "Traceback" not in done.stderr
        assert "serving on" not in done.stdout


def test_an_open_dashboard_must_be_asked_for_and_cannot_keep_an_allow_list(tmp_path):
    done = _cli("serve", "--config", str(_settings(tmp_path, "[access]\nopen = true\n")),
                "--secrets", str(tmp_path / "none.toml"), "--check")
    assert done.returncode == 0 and "OPEN: no sign-in" in done.stdout, done.stderr
    both = _settings(tmp_path, '[access]\nopen = true\nallowed_domains = ["example.com"]\n')
    done = _cli("serve", "--config", str(both), "--check")
    assert done.returncode == 2 and "admits everyone without sign-in" in done.stderr


def test_a_missing_settings_file_names_the_option_it_came_from(tmp_path):
    missing = str(tmp_path / "nope.toml")
    done = _cli("serve", "--config", missing, "--check")
    assert done.returncode == 2 and "(from --config)" in done.stderr
    assert "pass --config" in done.stderr
    done = _cli("history", "list", env={"INSPECTOR_CONFIG": missing})
    assert done.returncode == 2 and "(from INSPECTOR_CONFIG)" in done.stderr


@pytest.mark.postgres
def test_a_wrong_store_password_fails_the_check_naming_the_setting(tmp_path, postgres_url):
    from sqlalchemy.engine import make_url

    wrong = make_url(postgres_url).set(password="not-the-password")
    settings = _settings(tmp_path, "[access]\nopen = true\n[store]\nurl = "
                         f'"{wrong.render_as_string(hide_password=False)}"\n')
    done = _cli("serve", "--config", str(settings), "--check")
    assert done.returncode == 2, done.stdout
    assert f"[store] url in {settings}" in done.stderr and "INSPECTOR_DB" not in done.stderr
    assert "not-the-password" not in done.stderr
    done = _cli("serve", "--config", str(_settings(tmp_path, "[access]\nopen = true\n")),
                "--check", env={"INSPECTOR_DB": wrong.render_as_string(hide_password=False)})
    assert done.returncode == 2 and "(from INSPECTOR_DB)" in done.stderr


def _saved_run(store_folder: Path, title: str) -> str:
    store = RunStore(data=store_folder)
    request = prepare(Source("def f(x):\n    return x\n", "p.py"), "f", ["float32[4]"], ["spec"])
    run_id = store.save(request, {}, Report(tensorflow="2.21.0", function="f"), title=title)
    store.close()
    return run_id


def test_the_cli_reads_the_store_the_settings_file_names(tmp_path):
    """history list/show/prune and inspect --save use [store], from INSPECTOR_CONFIG or
    --config, before the environment's INSPECTOR_DATA (the test session's own store)."""
    team = tmp_path / "team-store"
    run_id = _saved_run(team, "the team's run")
    settings = _settings(tmp_path, f'[store]\nurl = "sqlite:///{team}/runs.db"\n'
                                   f'data = "{team}"\n[retention]\nkeep_days = 30\n')
    for how in ({"env": {"INSPECTOR_CONFIG": str(settings)}, "args": []},
                {"env": {}, "args": ["--config", str(settings)]}):
        listed = _cli("history", "list", "--json", "-", *how["args"], env=how["env"])
        assert listed.returncode == 0, listed.stderr
        assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]
    assert run_id not in _cli("history", "list").stdout  # the session's own store
    pruned = _cli("history", "prune", "--config", str(settings))
    assert pruned.returncode == 0 and "pruned 0 run(s)" in pruned.stderr  # 30 days kept


@pytest.mark.worker
def test_inspect_save_goes_to_the_settings_store_with_its_log(tmp_path):
    team = tmp_path / "team-store"
    settings = _settings(tmp_path, f'[store]\nurl = "sqlite:///{team}/runs.db"\n'
                                   f'data = "{team}"\n')
    done = _cli("inspect", "gallery:process_data", "--mode", "spec", "--runs", "1", "--save",
                "--config", str(settings))
    assert done.returncode == 0, done.stderr
    run_id = done.stderr.split("saved run ")[1].split()[0]
    store = RunStore(f"sqlite:///{team}/runs.db", team)
    saved = store.get(run_id)
    store.close()
    assert saved.report is not None and saved.report.error is None
    assert "Optimize GrapplerItem" in saved.log  # Grappler's log, kept with the run


@pytest.mark.browser  # starts the real dashboard (a Streamlit server and its workers)
def test_serve_from_another_folder_keeps_the_projects_streamlit_settings(tmp_path):
    port = free_port()
    settings = _settings(tmp_path, "[access]\nopen = true\n[workers]\ncount = 1\n", port)
    process = subprocess.Popen([CLI, "serve", "--config", str(settings)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env={**os.environ})
    try:
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", tries=600)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert "serving on" in output
    # The project's .streamlit/config.toml says gatherUsageStats = false; from another folder
    # Streamlit fell back to its defaults and said it collects usage statistics.
    assert "Collecting usage statistics" not in output, output


def test_the_hosted_app_without_sign_in_admits_no_one(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from inspector.ui import services

    monkeypatch.setenv("INSPECTOR_HOSTED", "1")
    monkeypatch.delenv("INSPECTOR_CONFIG", raising=False)
    services.policy.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("admits no one" in shown(e.value) for e in at.error)
    assert not [b for b in at.button if b.key == "run"]
    services.policy.clear()


def test_relative_paths_in_the_settings_are_the_settings_folders(tmp_path, provider):
    """serve runs the app from the project's folder: a relative [store] path read from the
    folder serve was started in would name another store there (the check passed, the
    server used the other one)."""
    settings = _settings(tmp_path, '[store]\nurl = "sqlite:///rel/runs.db"\ndata = "reldata"\n')
    done = _cli("serve", "--config", str(settings), "--secrets",
                str(_secrets(tmp_path, provider)), "--check", cwd=Path("/"))
    assert done.returncode == 0, done.stderr
    assert f"sqlite:///{tmp_path}/rel/runs.db" in done.stdout and "would serve on" in done.stdout
    assert not (tmp_path / "rel").exists() and not Path("/rel").exists()  # nothing made


def test_a_mistyped_store_path_is_refused_not_made_empty(tmp_path):
    settings = _settings(tmp_path, f'[store]\ndata = "{tmp_path}/typo-store"\n')
    done = _cli("history", "list", "--config", str(settings))
    assert done.returncode == 2 and "there is no store at" in done.stderr
    assert not (tmp_path / "typo-store").exists()


@pytest.mark.parametrize("flag, value", [("--keep-days", "-5"), ("--max-gb", "0")])
def test_prune_refuses_values_that_would_delete_every_run(flag, value):
    done = _cli("history", "prune", flag, value)
    assert done.returncode == 2 and "must be more than 0" in done.stderr


def test_the_worker_environment_passes_tensorflows_switches_and_no_credentials():
    from inspector.jobs.environment import worker_environment

    server = {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "0", "XLA_FLAGS": "x",
              "LC_ALL": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0", "PATH": "/usr/bin",
              "TF_VAR_db_password": "s1", "TF_TOKEN_app_terraform_io": "s2",
              "NVIDIA_API_KEY": "s3", "LC_SECRET": "s4", "INSPECTOR_DB": "s5",
              "AWS_SECRET_ACCESS_KEY": "s6", "CUDA_AUTH_KEY": "s7"}
    env = worker_environment(server)
    assert {"TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "XLA_FLAGS", "LC_ALL",
            "CUDA_VISIBLE_DEVICES", "PATH"} <= set(env)
    assert not {v for v in env.values() if v.startswith("s") and len(v) == 2}


@pytest.mark.parametrize("redirect, fragment", [
    ("http://{host}:8999/oauth2callback", "names port 8999"),
    ("http://localhost:99999/oauth2callback", "redirect_uri"),
])
def test_a_redirect_to_this_machine_on_another_port_is_refused(tmp_path, provider, redirect,
                                                               fragment):
    secrets = _secrets(tmp_path, provider)
    secrets.write_text(secrets.read_text().replace(
        "http://127.0.0.1:8621/oauth2callback", redirect.format(host=socket.gethostname())))
    done = _cli("serve", "--config", str(_settings(tmp_path)), "--secrets", str(secrets),
                "--check")
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr
    assert "secrets.toml" in done.stderr


@pytest.mark.worker
def test_an_operators_quiet_tensorflow_log_level_keeps_the_per_pass_capture(tmp_path):
    """Found in a walk: TF_CPP_MIN_LOG_LEVEL=2 in the server's environment (workers get
    TensorFlow's switches) silenced the meta optimizer's lines, so no mode had its passes."""
    out = tmp_path / "report.json"
    done = _cli("inspect", "gallery:constant_arithmetic", "--mode", "spec", "--runs", "3",
                "--json", str(out), env={"TF_CPP_MIN_LOG_LEVEL": "2",
                                         "TF_CPP_VMODULE": "executor=0"})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())["results"][0]
    assert result["grappler_passes"], result.get("passes_note")
