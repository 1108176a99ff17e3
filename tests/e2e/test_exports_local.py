"""The download list on the real local stack: the runner's worker takes the job from the queue folder."""

import json
import time
from pathlib import Path

import requests

from tests.jose_keys import private_and_public

OPERATOR = ("exports-operator@example.com", "Exports-Operat0r-Pass!")
KEYS = [{"name": "app", "algorithm": "AES128", "hex": "8899aabbccddeeff0011223344556677"}]


def test_an_export_runs_in_the_local_worker_and_its_sealed_file_is_served_by_the_api(local_stack):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR[0], KEYPORT_OPERATOR_PASSWORD=OPERATOR[1])
    session = requests.Session()
    token = session.post(stack.url + "/auth/login", json=dict(zip(("email", "password"), OPERATOR)), timeout=10).json()[
        "token"
    ]
    session.headers["Authorization"] = "Bearer " + token
    items = [
        {
            "serial": f"E2E-{n}",
            "product_type": "meter",
            "mac": f"00:1a:2b:3c:4d:{n:02x}",
            "claim_code": f"CLAIMCODE{n:02d}",
            "keys": KEYS,
        }
        for n in range(3)
    ]
    imported = session.post(stack.url + "/devices/import", json={"items": items}, timeout=30)
    assert imported.status_code == 200 and imported.json()["imported"] == 3, imported.text
    for n in range(2):
        claimed = session.post(
            stack.url + f"/devices/E2E-{n}/claim", json={"claim_code": f"CLAIMCODE{n:02d}"}, timeout=10
        )
        assert claimed.status_code == 200, claimed.text
    private, public = private_and_public("EC", "P-256")
    queued = session.post(
        stack.url + "/exports", json={"format": "jwe", "recipient_jwk": public, "serial": "E2E-"}, timeout=10
    )
    assert queued.status_code == 202, queued.text + stack.output()[-3000:]
    export_id = queued.json()["id"]
    deadline, job = time.monotonic() + 30, queued.json()
    while job["state"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = session.get(stack.url + f"/exports/{export_id}", timeout=10).json()
    assert (job["state"], job["count"]) == ("READY", 2), job
    file = session.get(stack.url + f"/exports/{export_id}/file", timeout=10)
    assert file.status_code == 200 and file.headers["Content-Type"] == "application/jose"
    from jwcrypto.jwe import JWE

    token = JWE()
    token.deserialize(file.text, key=private)
    assert [device["serial"] for device in json.loads(token.payload)["devices"]] == ["E2E-0", "E2E-1"]
    [kept] = list((Path(stack.home) / "exports").glob("*.sealed"))
    assert KEYS[0]["hex"].encode() not in kept.read_bytes() and b"E2E-0" not in kept.read_bytes()
    assert session.get(stack.url + "/exports", timeout=10).json()["items"][0]["id"] == export_id
