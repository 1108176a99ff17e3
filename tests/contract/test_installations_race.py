"""Installers racing for one device, and staff racing to enable one portal scope, on DynamoDB Local (where
conditional writes and transactions are really atomic under threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.errors import Conflict
from chalicelib.models import DeviceModel, InstallationModel, OrganizationModel, UserEmailModel
from chalicelib.permissions import Principal
from chalicelib.services.installers import installations
from chalicelib.services.portal.access_codes import enable_portal_access
from chalicelib.services.tenants.users import find_user_by_email
from tests.helpers import make_device, make_org

ROUNDS, THREADS = 12, 6


def test_installers_racing_for_one_device_have_one_winner_and_the_losers_leave_no_customer_behind(ddb, monkeypatch):
    monkeypatch.setattr(installations, "send_mail", lambda *args, **kwargs: "sent")
    orgs = [f"inst{n}" for n in range(THREADS)]
    for org_id in orgs:
        make_org(org_id)
    installers = [
        Principal(user_id=f"usr_{n}", org_id=org_id, roles=frozenset({"INSTALLER"})) for n, org_id in enumerate(orgs)
    ]
    wins = []
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for round_number in range(ROUNDS):
            mac = f"00:1a:2b:3c:4e:{round_number:02x}"
            make_device(f"RACE-{round_number:02d}", "root", id_code="ID4711", mac=mac)
            barrier = threading.Barrier(THREADS)

            def install(principal, round_number=round_number, mac=mac, barrier=barrier):
                barrier.wait()
                try:
                    installations.create_installation(
                        principal,
                        {
                            "id_code": "ID4711",
                            "mac": mac,
                            "customer": {"email": f"c{round_number}-{principal.user_id}@example.com", "name": "C"},
                        },
                    )
                    return principal.user_id
                except Conflict:
                    return None

            winners = [user for user in pool.map(install, installers) if user]
            wins.append(len(winners))
            device = DeviceModel.get(f"RACE-{round_number:02d}", consistent_read=True)
            winner_customer = find_user_by_email(f"c{round_number}-{winners[0]}@example.com")
            assert device.claim_status == "PENDING" and device.owner_org_id == winner_customer.org_id
    assert wins == [1] * ROUNDS
    assert InstallationModel.count() == ROUNDS
    # A losing transaction wrote nothing: no customer user, e-mail claim or organization of a loser exists.
    assert UserEmailModel.count() == ROUNDS
    assert OrganizationModel.count() == 1 + THREADS + ROUNDS  # root, the installers, one customer per round


def test_staff_enabling_one_scope_at_once_get_one_code(ddb):
    make_org("cust")
    admins = [Principal(user_id=f"usr_{n}", org_id="cust", roles=frozenset({"ORG_ADMIN"})) for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def enable(principal):
        barrier.wait()
        try:
            return enable_portal_access(principal, {"type": "org", "id": "cust"})["code"]
        except Conflict:
            return None

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        codes = [code for code in pool.map(enable, admins) if code]
    assert len(codes) == 1
