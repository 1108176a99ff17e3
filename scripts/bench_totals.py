"""The list totals' figures of `make bench` (scripts/bench.py runs them on its DynamoDB Local): GET /users and
GET /invitations of one organization, a 50-item page with its total, at 100 and at 10,000 items: p50 server time
and the DynamoDB calls of one load. The console's list pages (issue 22, part 2) are not built yet: the JSON
routes answer the same service call they will make. Nothing is asserted; the call counts should be equal."""

import json
import os
from datetime import timedelta

from bench_console import _dynamodb_calls, _sink, _timed  # one way to time a page and count its calls

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = (100, 10_000)
ROUTES = (("users", "/users?org_id={org}&limit=50"), ("invitations", "/invitations?org_id={org}&limit=50"))
STATES = ("CREATED", "SENT", "ACCEPTED", "EXPIRED", "REVOKED")


def list_totals(requests: int = 50) -> dict:
    """For each size: an organization whose users and invitations were made through the service (100) or stored
    in bulk and recounted with `recount`'s code (10,000); each route loaded `requests` times as an operator."""
    from chalice.test import Client

    import app
    from tests.helpers import STRONG_PASSWORD, make_user

    make_user(email="bench-totals@example.com", roles=("OPERATOR",), password=STRONG_PASSWORD)
    results: dict = {"requests": requests}
    with Client(app.app, stage_name="bench", project_dir=ROOT) as client, _sink():
        token = _login(client, "bench-totals@example.com", STRONG_PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        for size in SIZES:
            org = f"totals-{size}"
            _fill(org, size)
            for name, path in ROUTES:
                url = path.format(org=org)
                figures = _timed(client, url, headers, requests)
                with _dynamodb_calls() as calls:
                    answer = json.loads(client.http.get(url, headers=headers).body)
                results[f"{name}_at_{size}"] = {
                    **figures,
                    "total": answer["total"],
                    "items": len(answer["items"]),
                    "dynamodb_calls": dict(sorted(calls.items())),
                }
    return results


def _fill(org_id: str, size: int) -> None:
    """`size` users and `size` invitations (a fifth in each state): through the write paths up to 100, in bulk
    plus `recount_org` beyond (10,000 argon2id hashes would take minutes and measure nothing here)."""
    from chalicelib import clock
    from chalicelib.models import InvitationModel, UserModel
    from chalicelib.permissions import Principal
    from chalicelib.services.tenants import invitations
    from chalicelib.services.tenants.counts import recount_org
    from chalicelib.services.tenants.users import insert_user
    from tests.helpers import make_org

    make_org(org_id, name=f"Bench {size}")
    if size <= 100:
        actor = Principal(user_id="usr_bench", org_id="root", roles=frozenset({"OPERATOR"}))
        for number in range(size):
            insert_user(
                email=f"u{number:05d}@{org_id}.example.com",
                name=f"Bench {number}",
                org_id=org_id,
                password="Correct-Horse-9-Battery",
                roles=["KEY_MANAGER"],
                must_change_password=False,
            )
            made = invitations.create_invitation(actor, {"roles": ["VIEWER"], "org_id": org_id})
            state = STATES[number % len(STATES)]
            if state != "CREATED":
                stored = InvitationModel.get(made["id"])
                invitations.move_invitation(stored, state, {}, InvitationModel.state == "CREATED")
        return
    now = clock.now()
    with UserModel.batch_write() as batch:
        for number in range(size):
            batch.save(
                UserModel(
                    f"usr_{org_id}_{number}",
                    email=f"u{number:05d}@{org_id}.example.com",
                    name=f"Bench {number}",
                    org_id=org_id,
                    roles=["KEY_MANAGER"],
                    password_hash="bench: nobody signs in",
                    password_changed_at=now,
                    created_at=now,
                )
            )
    with InvitationModel.batch_write() as batch:
        for number in range(size):
            state = STATES[number % len(STATES)]
            item = InvitationModel(
                f"inv_{org_id}_{number}",
                org_id=org_id,
                state=state,
                nonce=f"bench{number}",
                created_by="usr_bench",
                created_at=now + timedelta(microseconds=number),
                expires_at=now + timedelta(days=7),
            )
            item.state_key = item.state_key_in(state)
            batch.save(item)
    recount_org(org_id)


def _login(client, email: str, password: str) -> str:
    response = client.http.post(
        "/auth/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": email, "password": password}),
    )
    if response.status_code != 200:
        raise RuntimeError(f"the bench's login answered {response.status_code}")
    return json.loads(response.body)["token"]


def print_totals(results: dict) -> None:
    """The list totals' lines of the bench table."""
    figures = results["list_totals"]
    print(
        f"{'list totals (DynamoDB Local)':<44}JSON routes (console list pages not built yet), "
        f"p50 over {figures['requests']} loads; DynamoDB calls of one load"
    )
    for name, path in ROUTES:
        for size in SIZES:
            page = figures[f"{name}_at_{size}"]
            label = f"  GET {path.split('?')[0]} at {size:,}"
            print(
                f"{label:<44}TOTAL: {page['total']:,} ({page['items']} shown); p50 {page['p50_ms']} ms, "
                f"p95 {page['p95_ms']} ms; calls {page['dynamodb_calls']}"
            )
