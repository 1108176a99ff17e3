"""`import app` (a Lambda cold start) loads no heavy library and opens no connection; a route that needs one
loads it then. A deployed stage missing a setting stops right there, in one log line."""

import json
import os
import subprocess
import sys

import pytest

from chalicelib.local import PROJECT_DIR
from tests.helpers import DEPLOYED

HEAVY = ("aws_encryption_sdk", "argon2", "jinja2", "moto", "jwcrypto", "jsonschema")
PROBE = """
import json, socket, sys
attempts = []
def refuse(self, address, *args):
    attempts.append(str(address))
    raise OSError("no network at import")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = lambda address, *a, **k: refuse(None, address)
import app
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"loaded": loaded, "attempts": attempts}))
"""


def lambda_environment(**changes):
    """The environment of a deployed function (the template's values: no local endpoint, no key file), with changes
    (None removes a variable)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KEYPORT_", "AWS_"))}
    env.update({**DEPLOYED, "AWS_LAMBDA_FUNCTION_NAME": "keyport-dev", "AWS_REGION": "eu-central-1"})
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def import_app(code="import app", **changes):
    """Run the code as a cold start does, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=lambda_environment(**changes),
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe(code):
    run = import_app(code)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_app_loads_no_heavy_library_and_opens_no_connection():
    found = probe(PROBE)
    assert found["attempts"] == []
    assert [name for name in HEAVY if name in found["loaded"]] == []
    assert "chalice" in found["loaded"] and "pynamodb" in found["loaded"]


def test_a_route_that_needs_a_heavy_library_loads_it_when_it_runs():
    found = probe(
        PROBE.replace(
            "import app\n", "import app\nfrom chalicelib.api.http import validate\nvalidate({'type': 'object'}, {})\n"
        )
    )  # what the first request with a body does
    assert "jsonschema" in found["loaded"] and "aws_encryption_sdk" not in found["loaded"]


def test_every_model_connection_reads_botocore_data_through_one_shared_loader():
    # Each pynamodb connection makes its own botocore session; with a loader each, every model's first call
    # re-read endpoints.json and the DynamoDB model (0.1-0.4 s a model; `make bench` prints the figure).
    from chalicelib.models import DeviceModel, UserModel

    loaders = {
        id(model._get_connection().connection.session.get_component("data_loader"))
        for model in (UserModel, DeviceModel)
    }
    assert len(loaders) == 1


@pytest.mark.parametrize(
    "name, value",
    [
        ("KEYPORT_PUBLIC_BASE_URL", None),
        ("KEYPORT_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        ("KEYPORT_MAIL_FROM", "keyport <no-reply@keyport.local>"),
        ("KEYPORT_SERVER_SECRET_ARN", None),
        ("KEYPORT_KMS_KEY_ARN", None),
    ],
)
def test_a_cold_start_of_a_deployed_stage_missing_a_setting_stops_with_one_log_line_naming_it(name, value):
    run = import_app(**{name: value})
    assert run.returncode == 1
    assert run.stderr == ""  # no traceback
    lines = run.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "CRITICAL" and record["service"] == "keyport"
    assert record["message"].startswith("keyport cannot run on stage dev: " + name)


def test_every_problem_goes_into_the_one_line():
    run = import_app(KEYPORT_PUBLIC_BASE_URL=None, KEYPORT_MAIL_FROM=None, KEYPORT_KMS_KEY_ARN=None)
    assert run.returncode == 1 and len(run.stdout.splitlines()) == 1
    message = json.loads(run.stdout)["message"]
    assert all(name in message for name in ("KEYPORT_PUBLIC_BASE_URL", "KEYPORT_MAIL_FROM", "KEYPORT_KMS_KEY_ARN"))


def test_chalice_package_still_imports_the_app_of_a_deployed_stage_without_its_values():
    # `chalice package --stage dev` imports app.py with KEYPORT_STAGE=dev and none of the template's values.
    bare = {name: None for name in DEPLOYED if name != "KEYPORT_STAGE"}
    run = import_app("import app; print(len(app.app.routes))", AWS_LAMBDA_FUNCTION_NAME=None, **bare)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.splitlines()[-1]) > 10
