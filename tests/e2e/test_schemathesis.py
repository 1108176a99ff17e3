"""schemathesis against the real local stack, as an OPERATOR and as a VIEWER: 0 failures.

Here the examples and fuzzing phases at 50 examples per operation (~100 operations; at 100 examples each role
took 8.7 min of a 15-minute suite); `make fuzz` adds the coverage phase (every boundary and wrong type of every
field) at 1,000 examples per operation.
"""

import os
import subprocess
import sys

import pytest
import requests

from chalicelib.local import PROJECT_DIR

sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))
from fuzz import OPERATOR, VIEWER, schemathesis_commands  # noqa: E402

EXAMPLES = int(os.environ.get("KEYPORT_FUZZ_EXAMPLES", "50"))


def login(stack, email, password):
    response = requests.post(stack.url + "/auth/login", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.mark.parametrize("role", ["OPERATOR", "VIEWER"])
def test_schemathesis_finds_no_failure(local_stack, role):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR[0], KEYPORT_OPERATOR_PASSWORD=OPERATOR[1])
    token = login(stack, *OPERATOR)
    if role == "VIEWER":
        created = requests.post(
            stack.url + "/users",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            json={"name": "Fuzz Viewer", "email": VIEWER[0], "roles": ["VIEWER"], "password": VIEWER[1]},
        )
        assert created.status_code == 201, created.text
        token = login(stack, *VIEWER)
        changed = requests.post(
            stack.url + "/me/password",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            json={"current_password": VIEWER[1], "new_password": VIEWER[1] + "2"},
        )
        assert changed.status_code == 204
    for command in schemathesis_commands(stack.url, token, EXAMPLES, workers=1, phases="examples,fuzzing"):
        run = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1800)
        summary = run.stdout[run.stdout.rfind("SUMMARY") :]
        print(summary)
        failures = run.stdout.find("FAILURES")  # the failing operation's name comes first; bodies can be huge
        assert run.returncode == 0, run.stdout[failures : failures + 6000] + "\n...\n" + run.stdout[-4000:]
