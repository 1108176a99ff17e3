"""Property: a key download (and an export) holds exactly the CLAIMED devices the actor's organization owns that match
the filters; never an unclaimed, pending or foreign one."""

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.permissions import Principal
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.keys.downloads import download_keys
from chalicelib.services.keys.exports import request_export, run_export
from tests.conftest import aws_client
from tests.helpers import make_device, make_org, make_user

OWNERS = ["home", "home_child", "rival", None]
STATUSES = ["CLAIMED", "PENDING"]
_runs = itertools.count()

devices_strategy = st.lists(
    st.tuples(
        st.sampled_from(OWNERS),
        st.sampled_from(STATUSES),
        st.sampled_from(["water", "heat"]),
        st.sampled_from([(), ("roof",), ("roof", "x")]),
    ),
    min_size=0,
    max_size=12,
)
filters_strategy = st.sampled_from(
    [
        {},
        {"product_type": "water"},
        {"label": "roof"},
        {"claim_status": "CLAIMED"},
        {"claim_status": "PENDING"},
        {"serial": "P"},
    ]
)


def build_world(run, devices, filters):
    """Store the drawn devices; answer (the query to send, the serials a download must hold)."""
    make_org("home")
    make_org("home_child", parent_id="home")
    make_org("rival")
    serial_prefix = f"P{run}-"
    expected = set()
    for n, (owner, status, product, labels) in enumerate(devices):
        serial = f"{serial_prefix}{n:02d}"
        labels = tuple(f"{label}{run}" for label in labels)  # labels are global: keep runs apart
        make_device(
            serial, "maker", owner, status=None if owner is None else status, product_type=product, labels=labels
        )
        claimed = owner in ("home", "home_child") and status == "CLAIMED"
        matches = (
            filters.get("product_type") in (None, product)
            and ("label" not in filters or f"roof{run}" in labels)
            and filters.get("claim_status") in (None, "CLAIMED")
        )
        if claimed and matches:
            expected.add(serial)
    query = {**filters, "serial": serial_prefix} if "serial" in filters or not filters else dict(filters)
    if "label" in query:
        query["label"] = f"roof{run}"
    return query, expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(devices=devices_strategy, filters=filters_strategy, role=st.sampled_from(["ORG_ADMIN", "KEY_MANAGER"]))
def test_a_download_holds_exactly_the_claimed_devices_in_scope(aws, devices, filters, role):
    run = next(_runs)
    query, expected = build_world(run, devices, filters)
    principal = Principal(user_id=f"usr_{run}", org_id="home", roles=frozenset({role}))
    body = download_keys(principal, "json", query)["body"]
    found = {device["serial"] for device in json.loads(body)["devices"] if device["serial"].startswith(f"P{run}-")}
    assert found == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(devices=devices_strategy, filters=filters_strategy, role=st.sampled_from(["ORG_ADMIN", "KEY_MANAGER"]))
def test_an_export_holds_exactly_the_claimed_devices_in_scope(aws, devices, filters, role):
    run = next(_runs)
    query, expected = build_world(run, devices, filters)
    user = make_user(email=f"p{run}@home.example", org_id="home", roles=(role,))
    principal = principal_of(user)
    export_id = request_export(principal, "json", query)["id"]
    assert run_export(export_id) == "READY"
    body = aws_client("s3").get_object(Bucket="keyport-test-exports", Key=f"exports/{export_id}")["Body"].read()
    found = {device["serial"] for device in json.loads(body)["devices"] if device["serial"].startswith(f"P{run}-")}
    assert found == expected
