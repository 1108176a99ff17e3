"""The operator CLI against a running local stack, run as the README says: nothing set but KEYPORT_HOME."""

import json
import os
import subprocess
import sys

import requests

from chalicelib import cli
from chalicelib.local import PROJECT_DIR
from tests.api.test_devices import HEADER, good_row
from tests.e2e.conftest import LocalStack

OPERATOR = ("cli-operator@example.com", "Cli-Operat0r-Passphrase")


class RunnerStack(LocalStack):
    """The stack `make run` starts, started by the runner module itself (no install step)."""

    command = [sys.executable, "-m", "chalicelib.local", "run"]


def run_cli(home, *args):
    """`python -m chalicelib.cli ARGS` in its own process with only PATH and KEYPORT_HOME set."""
    env = {"PATH": os.environ["PATH"], "KEYPORT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_command_runs_against_the_local_stack_with_nothing_but_keyport_home(tmp_path):
    stack = RunnerStack(
        tmp_path / "home", env=dict(zip(("KEYPORT_OPERATOR_EMAIL", "KEYPORT_OPERATOR_PASSWORD"), OPERATOR))
    ).start()
    try:
        ran = run_cli(stack.home, "create-tables")
        assert (ran.returncode, ran.stdout, ran.stderr) == (cli.EXIT_DONE, "Every table exists already.\n", "")
        ran = run_cli(stack.home, "bootstrap-operator", "--email", "second@example.com")
        assert ran.returncode == cli.EXIT_DONE and "One-time password: " in ran.stdout, ran.stderr
        ran = run_cli(stack.home, "sync-templates")
        assert (ran.returncode, ran.stdout) == (cli.EXIT_DONE, "System templates: 63 written, 0 newly active.\n")

        session = requests.Session()
        login = session.post(stack.url + "/auth/login", json=dict(zip(("email", "password"), OPERATOR)), timeout=10)
        session.headers["Authorization"] = "Bearer " + login.json()["token"]
        org_id = session.get(stack.url + "/me", timeout=10).json()["org_id"]
        devices = tmp_path / "devices.csv"
        devices.write_text(HEADER + "".join(good_row(n) for n in range(3)) + good_row(3).replace("AES128", "RSA"))
        ran = run_cli(stack.home, "import-devices", str(devices), "--org", org_id)
        assert ran.returncode == cli.EXIT_REJECTED, ran.stderr
        assert ran.stdout.startswith("Imported 3 devices; skipped 0 already in the catalog; rejected 1 rows.")
        assert "4/4 rows" in ran.stderr

        claimed = session.post(stack.url + "/devices/SN-000001/claim", json={"claim_code": "CLAIM00000001"}, timeout=10)
        assert claimed.status_code == 200, claimed.text
        written = tmp_path / "keys.json"
        ran = run_cli(stack.home, "export-keys", "--as", OPERATOR[0], "--format", "json", "--out", str(written))
        assert ran.returncode == cli.EXIT_DONE, ran.stderr
        assert os.stat(written).st_mode & 0o777 == 0o600
        assert [device["serial"] for device in json.loads(written.read_text())["devices"]] == ["SN-000001"]
        audit = session.get(stack.url + "/audit?action=keys_downloaded", timeout=10).json()["items"]
        assert [event["detail"]["count"] for event in audit] == [1]
    finally:
        stack.stop()

    ran = run_cli(stack.home, "create-tables")
    assert ran.returncode == cli.EXIT_USAGE and ran.stdout == ""
    assert ran.stderr.startswith(f"error: no local stack runs from {stack.home}") and ran.stderr.count("\n") == 1
