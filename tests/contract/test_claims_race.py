"""Claims on DynamoDB Local, where conditional writes are really atomic under threads."""

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.models import DeviceModel
from chalicelib.permissions import Principal
from chalicelib.services.devices.claims import AlreadyClaimed, claim_device
from tests.helpers import make_device, make_org

ROUNDS, THREADS = 200, 20


def test_twenty_threads_claiming_one_device_have_exactly_one_winner_in_each_of_200_rounds(ddb):
    orgs = [f"org{n}" for n in range(THREADS)]
    for org_id in orgs:
        make_org(org_id)
    for round_number in range(ROUNDS):
        make_device(f"R-{round_number:03d}", "root", id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    claimers = [
        Principal(user_id=f"usr_{n}", org_id=org_id, roles=frozenset({"KEY_MANAGER"})) for n, org_id in enumerate(orgs)
    ]
    winners_per_round = []
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for round_number in range(ROUNDS):
            serial, barrier = f"R-{round_number:03d}", threading.Barrier(THREADS)

            def claim(principal, serial=serial, barrier=barrier):
                barrier.wait()
                try:
                    claim_device(principal, serial, {"id_code": "ID4711", "mac": "00:1a:2b:3c:4d:5e"})
                    return principal.org_id
                except AlreadyClaimed:
                    return None

            winners = [org for org in pool.map(claim, claimers) if org]
            winners_per_round.append(len(winners))
            assert DeviceModel.get(serial, consistent_read=True).owner_org_id == winners[0]
    assert winners_per_round == [1] * ROUNDS


def test_a_batch_racing_a_single_claim_leaves_every_device_with_exactly_one_owner(ddb):
    from chalicelib.services.devices.batches import create_batch

    for org_id in ("maker", "target", "claimer"):
        make_org(org_id)
    serials = [f"B-{n:03d}" for n in range(150)]
    for serial in serials:
        make_device(serial, "maker", id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    operator = Principal(user_id="usr_op", org_id="root", roles=frozenset({"OPERATOR"}))
    claimer = Principal(user_id="usr_c", org_id="claimer", roles=frozenset({"KEY_MANAGER"}))
    barrier = threading.Barrier(2)

    def batch():
        barrier.wait()
        return create_batch(
            operator, {"reference": "RACE", "org_id": "target", "serials": serials, "maker_org_id": "maker"}
        )

    def claims():
        barrier.wait()
        won = []
        for serial in serials[::-7]:  # from the end backwards, so some land before the batch reaches them
            try:
                claim_device(claimer, serial, {"id_code": "ID4711", "mac": "00:1a:2b:3c:4d:5e"})
                won.append(serial)
            except AlreadyClaimed:
                pass
        return won

    with ThreadPoolExecutor(max_workers=2) as pool:
        batch_future, claims_future = pool.submit(batch), pool.submit(claims)
        result, claimed = batch_future.result(), claims_future.result()
    owners = {serial: DeviceModel.get(serial, consistent_read=True).owner_org_id for serial in serials}
    assert all(owner in ("target", "claimer") for owner in owners.values())
    assert {serial for serial, owner in owners.items() if owner == "claimer"} == set(claimed)
    assert result["count"] == sum(1 for owner in owners.values() if owner == "target")
    assert set(result["unavailable_serials"]) == set(claimed)


def test_confirming_a_1000_serial_batch_takes_at_most_ten_transactions(ddb):
    from chalicelib.services.devices.batches import confirm_batch, create_batch
    from tests.contract.test_device_catalog import count_dynamodb_calls, fill

    make_org("maker")
    make_org("target")
    fill(0, 2000)  # D0000000.. : the odd ones are unclaimed
    serials = [f"D{n:07d}" for n in range(1, 2000, 2)]
    operator = Principal(user_id="usr_op", org_id="root", roles=frozenset({"OPERATOR"}))
    batch = create_batch(
        operator,
        {
            "reference": "BIG",
            "org_id": "target",
            "serials": serials,
            "maker_org_id": "maker",
            "requires_confirmation": True,
        },
    )
    assert (batch["state"], batch["count"]) == ("PENDING", 1000)
    with count_dynamodb_calls() as calls:
        confirmed = confirm_batch(operator, batch["id"])
    assert confirmed["state"] == "CONFIRMED"
    assert calls["TransactWriteItems"] == 10
    assert DeviceModel.get(serials[-1], consistent_read=True).claim_status == "CLAIMED"
