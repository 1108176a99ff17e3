"""`import app` (a Lambda cold start) loads no heavy library and opens no connection; a route that needs one
loads it then."""
import json
import os
import subprocess
import sys

from chalicelib.local import PROJECT_DIR

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


def probe(code):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KEYPORT_", "AWS_"))}
    env["KEYPORT_STAGE"] = "dev"  # as on Lambda: no local endpoint, no key file
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_app_loads_no_heavy_library_and_opens_no_connection():
    found = probe(PROBE)
    assert found["attempts"] == []
    assert [name for name in HEAVY if name in found["loaded"]] == []
    assert "chalice" in found["loaded"] and "pynamodb" in found["loaded"]


def test_a_route_that_needs_a_heavy_library_loads_it_when_it_runs():
    found = probe(PROBE.replace("import app\n", "import app\nfrom chalicelib.api.http import validate\n"
                                "validate({'type': 'object'}, {})\n"))  # what the first request with a body does
    assert "jsonschema" in found["loaded"] and "aws_encryption_sdk" not in found["loaded"]


def test_every_model_connection_reads_botocore_data_through_one_shared_loader():
    # Each pynamodb connection makes its own botocore session; with a loader each, every model's first call
    # re-read endpoints.json and the DynamoDB model (0.1-0.4 s a model; `make bench` prints the figure).
    from chalicelib.models import DeviceModel, UserModel

    loaders = {id(model._get_connection().connection.session.get_component("data_loader"))
               for model in (UserModel, DeviceModel)}
    assert len(loaders) == 1
