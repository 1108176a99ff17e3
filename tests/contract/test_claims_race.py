"""Claims on DynamoDB Local, where conditional writes are really atomic under threads."""
import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.models import DeviceModel
from chalicelib.permissions import Principal
from chalicelib.services.claims import AlreadyClaimed, claim_device
from tests.helpers import make_device, make_org

ROUNDS, THREADS = 200, 20


def test_twenty_threads_claiming_one_device_have_exactly_one_winner_in_each_of_200_rounds(ddb):
    orgs = [f"org{n}" for n in range(THREADS)]
    for org_id in orgs:
        make_org(org_id)
    for round_number in range(ROUNDS):
        make_device(f"R-{round_number:03d}", "root", id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    claimers = [Principal(user_id=f"usr_{n}", org_id=org_id, roles=frozenset({"KEY_MANAGER"}))
                for n, org_id in enumerate(orgs)]
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
