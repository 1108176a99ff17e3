"""Admins racing on one partner request, on DynamoDB Local (where conditional writes and transactions are really
atomic under threads): one answer wins, and the pair ends linked both ways or not at all."""

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.errors import DomainError
from chalicelib.models import PartnerModel, PartnerRequestModel
from chalicelib.permissions import Principal
from chalicelib.services.tenants import partners
from tests.helpers import make_org

ROUNDS, THREADS = 6, 6


def admin(org_id, number=0):
    return Principal(user_id=f"usr_{org_id}_{number}", org_id=org_id, roles=frozenset({"ORG_ADMIN"}))


def race(calls):
    """Run the calls at once; answer what each returned ("refused" when it raised a domain error)."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            call()
            return "done"
        except DomainError:
            return "refused"

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_accept_decline_and_withdraw_at_once_settle_a_request_exactly_once(ddb):
    make_org("asked")
    for round_number in range(ROUNDS):
        asker = f"asker{round_number}"
        make_org(asker)
        partners.add_partner(admin(asker), asker, "asked")
        calls = [lambda n=n: partners.accept_partner_request(admin("asked", n), "asked", asker) for n in range(2)]
        calls += [lambda n=n: partners.decline_partner_request(admin("asked", n), "asked", asker) for n in range(2)]
        calls += [lambda n=n: partners.cancel_partner_request(admin(asker, n), asker, "asked") for n in range(2)]
        outcomes = race(calls)
        assert outcomes.count("done") == 1, outcomes
        accepted = outcomes.index("done") < 2
        links = {
            (link.org_id, link.partner_org_id)
            for org_id in ("asked", asker)
            for link in PartnerModel.query(org_id, consistent_read=True)
            if asker in (link.org_id, link.partner_org_id)
        }
        assert links == ({("asked", asker), (asker, "asked")} if accepted else set())
        assert [
            row
            for org_id in ("asked", asker)
            for row in PartnerRequestModel.query(org_id, consistent_read=True)
            if asker in (row.org_id, row.partner_org_id)
        ] == []


def test_the_same_request_sent_at_once_is_stored_once(ddb):
    make_org("asked")
    for round_number in range(ROUNDS):
        asker = f"asker{round_number}"
        make_org(asker)
        answers = []
        outcomes = race(
            [lambda n=n: answers.append(partners.add_partner(admin(asker, n), asker, "asked")) for n in range(THREADS)]
        )
        assert outcomes.count("done") >= 1 and len({answer["created_at"] for answer in answers}) == 1, outcomes
        assert [(row.org_id, row.direction) for row in PartnerRequestModel.query(asker, consistent_read=True)] == [
            (asker, "outgoing")
        ]
        incoming = PartnerRequestModel.query("asked", PartnerRequestModel.partner_org_id == asker, consistent_read=True)
        assert [row.direction for row in incoming] == ["incoming"]
