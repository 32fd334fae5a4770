"""The operator's settings file and the hosted command that reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.hosting.policy import Policy, PolicyError, parse
from tests.helpers import shown

CLI = str(Path(sys.executable).parent / "tf-graph-inspector")


def test_a_full_file_parses_into_the_policy():
    policy = parse("""
        [workers]
        count = 3
        jobs_per_user = 2
        max_timeout_s = 120
        max_memory_mb = 2048
        [inputs]
        pasted_code = false
        [access]
        allowed_domains = ["example.com"]
        allowed_users = ["guest@gmail.com"]
        admins = ["lead@example.com"]
        [store]
        url = "sqlite:////tmp/x.db"
        [retention]
        keep_days = 30
        [server]
        address = "0.0.0.0"
        port = 8600
    """)
    assert (policy.workers, policy.jobs_per_user, policy.max_timeout_s) == (3, 2, 120)
    assert policy.pasted_code is False and policy.port == 8600
    assert policy.allows("Someone@Example.com") and policy.allows("guest@gmail.com")
    assert not policy.allows("someone@elsewhere.org") and not policy.allows(None)
    assert policy.is_admin("lead@example.com") and not policy.is_admin("guest@gmail.com")
    assert Policy().allows(None)  # no lists: local mode lets everyone in


@pytest.mark.parametrize("text, fragment", [
    ("[workers]\ncuont = 2\n", "unknown key [workers] cuont"),
    ("[workers]\ncount = 'two'\n", "[workers] count must be an integer of at least 1, not 'two'"),
    ("[workers]\nmax_memory_mb = 100\n", "[workers] max_memory_mb must be an integer of at least 512"),
    ("[access]\nadmins = 'lead@example.com'\n", "[access] admins must be a list of emails"),
    ("[server]\nport = 70000\n", "[server] port must be a port number"),
    ("workers = 2\n", "workers must be a [section]"),
    ("[workers\n", "not valid TOML"),
])
def test_a_wrong_key_or_value_is_named(text, fragment):
    with pytest.raises(PolicyError) as caught:
        parse(text, "inspector.toml")
    assert fragment in caught.value.message and "inspector.toml" in caught.value.message


def test_serve_stops_on_a_wrong_key_and_refuses_to_start_without_the_sandbox(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[workers]\ncount = 0\n")
    done = subprocess.run([CLI, "serve", "--config", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "[workers] count must be" in done.stderr
    good = tmp_path / "good.toml"  # open: no sign-in to check, so the sandbox is what fails
    good.write_text("[server]\nport = 8611\n[access]\nopen = true\n")
    no_bwrap = {**os.environ, "PATH": str(tmp_path)}  # bwrap (and setpriv) cannot be found
    done = subprocess.run([CLI, "serve", "--config", str(good), "--check"],
                          capture_output=True, text=True, timeout=60, env=no_bwrap)
    assert done.returncode == 2
    assert "refuses to start without its sandbox" in done.stderr and "bubblewrap" in done.stderr


def test_serve_names_the_wrong_key_of_a_bad_auth_section(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[server]\nport = 8612\n")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8612/oauth2callback"\n'
                       'cookie_secret = "x"\n[auth.mock]\nclient_id = "a"\n'
                       'server_metadata_url = "http://127.0.0.1:9/.well-known/x"\n')
    done = subprocess.run([CLI, "serve", "--config", str(good), "--secrets", str(secrets),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "[auth.mock] client_secret is missing" in done.stderr
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8612/callback"\n')
    done = subprocess.run([CLI, "serve", "--config", str(good), "--secrets", str(secrets),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "[auth] cookie_secret is missing" in done.stderr


def test_the_operators_files_folder_must_exist(tmp_path):
    assert parse(f'[inputs]\nfiles = "{tmp_path}"\n').files_dir == str(tmp_path)
    with pytest.raises(PolicyError) as caught:
        parse(f'[inputs]\nfiles = "{tmp_path / "missing"}"\n')
    assert "[inputs] files must be a folder that exists" in caught.value.message


def test_a_wrong_backend_stops_serve_and_is_a_typed_error_on_the_page(tmp_path, monkeypatch):
    good = tmp_path / "good.toml"
    good.write_text("[server]\nport = 8613\n[access]\nopen = true\n")
    for env, fragment in (({"INSPECTOR_EXECUTOR": "bogus"}, "unknown executor 'bogus'"),
                          ({"INSPECTOR_EXECUTOR": "ray", "RAY_ADDRESS": "127.0.0.1:1"},
                           "cannot reach the Ray cluster at 127.0.0.1:1")):
        done = subprocess.run([CLI, "serve", "--config", str(good), "--check"],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, **env})
        assert done.returncode == 2 and "ExecutorError: " + fragment in done.stderr
    # The app: the error, named, instead of a traceback; no form to run anything.
    from streamlit.testing.v1 import AppTest

    from inspector.ui import services
    from tests.helpers import ROOT

    monkeypatch.setenv("INSPECTOR_EXECUTOR", "bogus")
    services.executor.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("ExecutorError: unknown executor 'bogus'" in shown(e.value) for e in at.error)
    assert not [b for b in at.button if b.key == "run"]
