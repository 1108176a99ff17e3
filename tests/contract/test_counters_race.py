"""Contract tier: concurrent creates, deletes, role changes and invitation moves leave every counter exact."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib import clock
from chalicelib.errors import DomainError
from chalicelib.models import CounterModel, InvitationModel, UserModel
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.tenants import invitations, user_admin
from chalicelib.services.tenants.counts import counted_kinds_of_invitations, counted_kinds_of_users
from chalicelib.services.tenants.users import delete_user_record, get_user
from tests.helpers import STRONG_PASSWORD, make_org, make_user


def counters(org_id):
    return {
        counter.kind: int(counter.total)
        for counter in CounterModel.query(org_id, consistent_read=True)
        if counter.total
    }


def from_items(org_id):
    """The counts the items themselves give (consistent scans: no index lag)."""
    wanted = counted_kinds_of_users(user for user in UserModel.scan(consistent_read=True) if user.org_id == org_id)
    wanted.update(
        counted_kinds_of_invitations(
            item for item in InvitationModel.scan(consistent_read=True) if item.org_id == org_id
        )
    )
    return dict(wanted)


def run_at_once(tasks):
    """Run every task in its own thread, all released together; answer each one's outcome (or refusal code)."""
    barrier = threading.Barrier(len(tasks), timeout=60)

    def run(task):
        barrier.wait()
        try:
            task()
            return "done"
        except DomainError as refusal:
            return refusal.code

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def user_fields(email, roles=("VIEWER",)):
    return {"name": email, "email": email, "org_id": "org_a", "roles": list(roles), "password": STRONG_PASSWORD}


def test_concurrent_creates_deletes_and_role_changes_leave_the_user_counters_exact(ddb):
    make_org("org_a")
    admin = principal_of(make_user("admin@example.com", roles=("ORG_ADMIN",), org_id="org_a"))
    existing = [user_admin.create_user(admin, user_fields(f"old{n}@example.com")) for n in range(12)]
    stale = {user["id"]: get_user(user["id"]) for user in existing}
    tasks = []
    for n in range(8):  # new users, each address asked for twice at once: one of each pair wins
        tasks += [lambda n=n: user_admin.create_user(admin, user_fields(f"new{n}@example.com", ("KEY_MANAGER",)))] * 2
    for user in existing[:4]:  # each deleted twice at once (from the same stale read): counted once
        tasks += [lambda user=user: delete_user_record(stale[user["id"]])] * 2
    for user in existing[4:8]:  # role changes racing a delete of the same user
        tasks.append(lambda user=user: user_admin.update_user(admin, user["id"], {"roles": ["KEY_MANAGER"]}))
        tasks.append(lambda user=user: delete_user_record(stale[user["id"]]))
    for user in existing[8:]:  # two role changes at once from one read each
        tasks.append(lambda user=user: user_admin.update_user(admin, user["id"], {"roles": ["ORG_ADMIN"]}))
        tasks.append(lambda user=user: user_admin.update_user(admin, user["id"], {"roles": ["KEY_MANAGER", "VIEWER"]}))
    outcomes = Counter(run_at_once(tasks))
    assert outcomes["email_taken"] == 8, outcomes
    assert set(outcomes) <= {"done", "email_taken", "user_changed", "user_not_found"}, outcomes
    assert counters("org_a") == from_items("org_a")
    assert counters("org_a")["users"] == 1 + 12 + 8 - 8  # the admin, the old ones, the new ones, the deleted


def test_concurrent_sends_revokes_accepts_and_the_expiry_leave_the_invitation_counters_exact(ddb, monkeypatch):
    make_org("org_a")
    admin = principal_of(make_user("admin@example.com", roles=("ORG_ADMIN",), org_id="org_a"))
    monkeypatch.setattr(invitations, "send_mail", lambda *args, **kwargs: None)
    made = [invitations.create_invitation(admin, {"roles": ["VIEWER"], "valid_days": 1}) for _ in range(12)]
    tasks = []
    for item in made[:4]:  # revoke racing send
        tasks.append(lambda item=item: invitations.revoke_invitation(admin, item["id"]))
        tasks.append(lambda item=item: invitations.send_invitation(admin, item["id"], "someone@example.com"))
    for number, item in enumerate(made[4:8]):  # accept racing revoke
        token = item["link"].rsplit("/", 1)[1]
        fields = {"email": f"invitee{number}@example.com", "password": STRONG_PASSWORD}
        tasks.append(lambda token=token, fields=fields: invitations.accept_invitation(token, fields))
        tasks.append(lambda item=item: invitations.revoke_invitation(admin, item["id"]))
    later = clock.now() + timedelta(days=2)
    # revoke racing the hourly expiry (run twice at once)
    tasks += [lambda item=item: invitations.revoke_invitation(admin, item["id"]) for item in made[8:]]
    tasks += [lambda: invitations.expire_invitations(later)] * 2
    run_at_once(tasks)
    assert counters("org_a") == from_items("org_a")
    assert sum(total for kind, total in counters("org_a").items() if kind.startswith("invitations#")) == 12


def test_role_changes_that_all_read_the_user_before_any_writes_count_only_the_one_that_lands(ddb, monkeypatch):
    make_org("org_a")
    admin = principal_of(make_user("admin@example.com", roles=("ORG_ADMIN",), org_id="org_a"))
    users = [user_admin.create_user(admin, user_fields(f"raced{n}@example.com")) for n in range(4)]
    changes = [["ORG_ADMIN"], ["KEY_MANAGER", "VIEWER"], ["KEY_MANAGER"]]
    barrier = threading.Barrier(len(users) * len(changes), timeout=60)
    read = user_admin.get_user

    def read_then_wait(user_id):
        # Every writer has read the user before any of them writes: only the write's condition decides.
        found = read(user_id)
        barrier.wait()
        return found

    monkeypatch.setattr(user_admin, "get_user", read_then_wait)
    tasks = [
        lambda user=user, roles=roles: user_admin.update_user(admin, user["id"], {"roles": roles})
        for user in users
        for roles in changes
    ]
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        outcomes = Counter(pool.map(_outcome, tasks))
    assert outcomes == {"done": len(users), "user_changed": len(users) * (len(changes) - 1)}, outcomes
    assert counters("org_a") == from_items("org_a")


def _outcome(task):
    try:
        task()
        return "done"
    except DomainError as refusal:
        return refusal.code
