"""List totals from counters: kept in the same transaction as every write that changes what they count, read
with the same DynamoDB calls whatever an organization holds, rebuilt by the operator's `recount`."""

from datetime import datetime, timedelta, timezone

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib import cli, clock, models
from chalicelib.errors import EmailTaken
from chalicelib.models import CounterModel, InvitationModel, UserModel
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.tenants import invitations, user_admin
from chalicelib.services.tenants.counts import (
    count_invitations,
    count_users,
    counted_kinds_of_invitations,
    counted_kinds_of_users,
    recount_org,
)
from chalicelib.services.tenants.orgs import OrgNotFound
from chalicelib.services.tenants.users import UserChanged, delete_user_record, get_user
from tests.aws_calls import record_aws_operations
from tests.helpers import STRONG_PASSWORD, make_org, make_user


def counters(org_id):
    """The organization's counters as stored (kind -> total), zeros left out."""
    return {counter.kind: int(counter.total) for counter in CounterModel.query(org_id) if counter.total}


def recounted(org_id):
    """What the counters should say, from the items themselves."""
    wanted = counted_kinds_of_users(UserModel.org_index.query(org_id))
    wanted.update(counted_kinds_of_invitations(InvitationModel.org_state_index.query(org_id)))
    return dict(wanted)


@pytest.fixture
def operator(aws):
    return principal_of(make_user("operator@example.com", roles=("OPERATOR",)))


@pytest.fixture
def admin(aws):
    make_org("org_a")
    return principal_of(make_user("admin@example.com", roles=("ORG_ADMIN",), org_id="org_a"))


def new_user(principal, email, roles=("VIEWER",), org_id="org_a"):
    fields = {"name": email, "email": email, "org_id": org_id, "roles": list(roles), "password": STRONG_PASSWORD}
    return user_admin.create_user(principal, fields)


def test_creating_changing_moving_and_deleting_users_keeps_the_counters_equal_to_the_items(admin, operator):
    make_org("org_b", parent_id="org_a")
    first = new_user(admin, "first@example.com", ("KEY_MANAGER",))
    new_user(admin, "second@example.com", ("VIEWER", "KEY_MANAGER"))
    assert counters("org_a") == {
        "users": 3,
        "users#role#ORG_ADMIN": 1,
        "users#role#KEY_MANAGER": 2,
        "users#role#VIEWER": 1,
    }
    user_admin.update_user(admin, first["id"], {"roles": ["VIEWER"]})
    assert (
        counters("org_a")
        == recounted("org_a")
        == {
            "users": 3,
            "users#role#ORG_ADMIN": 1,
            "users#role#KEY_MANAGER": 1,
            "users#role#VIEWER": 2,
        }
    )
    moved = user_admin.update_user(admin, first["id"], {"org_id": "org_b", "roles": ["KEY_MANAGER"]})
    assert moved["org_id"] == "org_b" and moved["roles"] == ["KEY_MANAGER"]
    assert counters("org_b") == recounted("org_b") == {"users": 1, "users#role#KEY_MANAGER": 1}
    assert counters("org_a") == recounted("org_a")
    user_admin.update_user(admin, first["id"], {"name": "Renamed", "status": "DISABLED"})  # counts stay
    assert counters("org_b") == {"users": 1, "users#role#KEY_MANAGER": 1}
    delete_user_record(get_user(first["id"]))
    assert counters("org_b") == recounted("org_b") == {}


def test_an_email_already_taken_changes_no_count(admin):
    new_user(admin, "taken@example.com")
    before = counters("org_a")
    with pytest.raises(EmailTaken):
        new_user(admin, "taken@example.com", ("KEY_MANAGER",))
    assert counters("org_a") == before == recounted("org_a")


def test_a_role_change_racing_another_is_refused_and_changes_no_count(admin):
    created = new_user(admin, "raced@example.com", ("VIEWER",))
    stale = get_user(created["id"])
    user_admin.update_user(admin, created["id"], {"roles": ["KEY_MANAGER"]})
    before = counters("org_a")
    # The second writer read the user before the first change: its count changes would be wrong, so it stops.
    with pytest.raises(UserChanged):
        user_admin._update_counted(stale, [UserModel.roles.set(["INSTALLER"])], {("org_a", "users#role#VIEWER"): -1})
    assert counters("org_a") == before == recounted("org_a")


def test_a_delete_of_a_user_whose_roles_changed_meanwhile_counts_what_it_deletes(admin):
    created = new_user(admin, "changed@example.com", ("VIEWER",))
    stale = get_user(created["id"])
    user_admin.update_user(admin, created["id"], {"roles": ["KEY_MANAGER"]})
    delete_user_record(stale)
    delete_user_record(stale)  # twice: a user already gone counts once
    assert get_user(created["id"]) is None
    assert counters("org_a") == recounted("org_a") == {"users": 1, "users#role#ORG_ADMIN": 1}


def test_a_transaction_that_fails_in_flight_changes_no_count(admin, monkeypatch):
    new_user(admin, "kept@example.com")
    before = counters("org_a")
    connection = models.connection()

    def crash(*args, **kwargs):
        raise TransactWriteError("the connection dropped")

    monkeypatch.setattr(connection, "transact_write_items", crash)
    with pytest.raises(TransactWriteError):
        new_user(admin, "lost@example.com")
    with pytest.raises(TransactWriteError):
        invitations.create_invitation(admin, {"roles": ["VIEWER"]})
    monkeypatch.undo()
    assert counters("org_a") == before == recounted("org_a")


def test_every_invitation_state_move_keeps_the_counters_equal_to_the_items(admin, mailbox):
    made = [invitations.create_invitation(admin, {"roles": ["VIEWER"], "email": f"i{n}@example.com"}) for n in range(5)]
    assert counters("org_a")["invitations#CREATED"] == 5
    invitations.send_invitation(admin, made[0]["id"])
    invitations.send_invitation(admin, made[1]["id"])
    invitations.send_invitation(admin, made[1]["id"])  # a resend: still SENT, counted once
    invitations.revoke_invitation(admin, made[2]["id"])
    token = made[3]["link"].rsplit("/", 1)[1]
    invitations.accept_invitation(token, {"password": STRONG_PASSWORD, "name": "Invitee"})
    with pytest.raises(invitations.InvitationClosed):
        invitations.revoke_invitation(admin, made[2]["id"])  # refused: counts nothing
    expired = invitations.expire_invitations(clock.now() + timedelta(days=40))
    assert expired["expired"] == 3  # the two SENT and the last CREATED
    assert counters("org_a") == recounted("org_a")
    assert {kind: total for kind, total in counters("org_a").items() if kind.startswith("invitations")} == {
        "invitations#EXPIRED": 3,
        "invitations#REVOKED": 1,
        "invitations#ACCEPTED": 1,
    }
    assert count_invitations(admin, "org_a") == 5
    assert count_invitations(admin, "org_a", "EXPIRED") == 3
    assert count_users(admin, "org_a") == 2  # the admin and the invitee


def test_the_list_routes_answer_their_total_over_every_page(admin):
    for n in range(3):
        new_user(admin, f"p{n}@example.com", ("KEY_MANAGER",))
    first = user_admin.list_users(admin, org_id="org_a", limit=2)
    assert len(first["items"]) == 2 and first["total"] == 4
    assert user_admin.list_users(admin, org_id="org_a", role="KEY_MANAGER")["total"] == 3
    assert user_admin.list_users(admin, role="KEY_MANAGER")["total"] == 3  # the whole scope: org_a alone here
    assert user_admin.list_users(admin, name="p1")["total"] is None  # no counter answers a name filter
    invitations.create_invitation(admin, {"roles": ["VIEWER"]})
    assert invitations.list_invitations(admin, state="CREATED")["total"] == 1
    assert invitations.list_invitations(admin, state="SENT")["total"] == 0


def test_a_total_outside_the_readers_scope_is_not_found(admin):
    make_org("org_other")
    with pytest.raises(OrgNotFound):
        count_users(admin, "org_other")
    with pytest.raises(OrgNotFound):
        count_invitations(admin, "org_other")


def seed(org_id, users, invitations_each_state):
    """Store items straight into the tables (as a stage that had data before counters existed), no counters."""
    now = clock.now()
    with UserModel.batch_write() as batch:
        for number in range(users):
            batch.save(
                UserModel(
                    f"usr_{org_id}_{number}",
                    email=f"{number:05d}@{org_id}.example.com",
                    name=f"Seeded {number}",
                    org_id=org_id,
                    roles=["KEY_MANAGER"] if number % 2 else ["VIEWER"],
                    password_hash="not a hash",
                    password_changed_at=now,
                    created_at=now,
                )
            )
    with InvitationModel.batch_write() as batch:
        for state in ("CREATED", "SENT", "ACCEPTED", "EXPIRED", "REVOKED"):
            for number in range(invitations_each_state):
                item = InvitationModel(
                    f"inv_{org_id}_{state}_{number}",
                    org_id=org_id,
                    state=state,
                    created_by="usr_seed",
                    created_at=now + timedelta(microseconds=number),
                    expires_at=now + timedelta(days=7),
                )
                item.state_key = item.state_key_in(state)
                batch.save(item)


def test_a_total_costs_the_same_dynamodb_calls_at_100_and_at_10000_items(operator):
    """The small organization's counters come from the real write paths; the big one's items are seeded and
    its counters written as `recount` would write them (recount itself over 10,000 items is too slow on moto)."""
    make_org("org_small")
    small_admin = principal_of(make_user("small-admin@example.com", roles=("ORG_ADMIN",), org_id="org_small"))
    for number in range(99):
        new_user(
            small_admin, f"s{number:03d}@example.com", ("KEY_MANAGER",) if number % 2 else ("VIEWER",), "org_small"
        )
    for number in range(100):
        invitations.create_invitation(small_admin, {"roles": ["VIEWER"]})
    make_org("org_big")
    seed("org_big", 10_000, 2_000)
    expected = counted_kinds_of_users(UserModel.org_index.query("org_big"))
    expected.update(counted_kinds_of_invitations(InvitationModel.org_state_index.query("org_big")))
    with CounterModel.batch_write() as batch:
        for kind, total in expected.items():
            batch.save(CounterModel("org_big", kind, total=total))

    def calls(org_id):
        with record_aws_operations() as made:
            users = count_users(operator, org_id)
            key_managers = count_users(operator, org_id, "KEY_MANAGER")
            invited = count_invitations(operator, org_id)
            created = count_invitations(operator, org_id, "CREATED")
        with record_aws_operations() as user_page:
            listed_users = user_admin.list_users(operator, org_id=org_id, limit=50)
        with record_aws_operations() as invitation_page:
            listed_invitations = invitations.list_invitations(operator, org_id=org_id, limit=50)
        totals = (users, key_managers, invited, created, listed_users["total"], listed_invitations["total"])
        return totals, made, user_page, invitation_page

    small_totals, *small_calls = calls("org_small")
    big_totals, *big_calls = calls("org_big")
    assert small_totals == (100, 49, 100, 100, 100, 100)
    assert big_totals == (10_000, 5_000, 10_000, 2_000, 10_000, 10_000)
    assert big_calls == small_calls
    assert small_calls[0] == ["dynamodb.GetItem", "dynamodb.BatchGetItem"] * 4  # the organization, its counters


def test_recount_rebuilds_the_counters_of_items_stored_before_counters_existed_and_resumes(aws, capsys):
    make_org("org_a")
    make_org("org_b")
    seed("org_a", 30, 2)
    seed("org_b", 4, 1)
    CounterModel("org_a", "users#role#INSTALLER", total=7).save()  # a counter of nothing any more
    assert cli.main(["recount"]) == cli.EXIT_DONE
    lines = capsys.readouterr().out.splitlines()
    assert "recounted org_a: 30 users, 10 invitations" in lines and "recounted org_b: 4 users, 5 invitations" in lines
    assert counters("org_a") == recounted("org_a")
    assert counters("org_a")["users#role#KEY_MANAGER"] == 15
    assert "users#role#INSTALLER" not in counters("org_a")
    assert counters("org_b") == recounted("org_b")
    # Resumed after the root: the organizations after it in the tree are done again, the root is not.
    CounterModel("org_b", "users", total=999).save()
    CounterModel("root", "users", total=999).save()
    assert cli.main(["recount", "--after", "root"]) == cli.EXIT_DONE
    assert counters("org_b")["users"] == 4
    assert counters("root")["users"] == 999


def test_recounting_twice_changes_nothing(aws):
    make_org("org_a")
    seed("org_a", 5, 1)
    first = recount_org("org_a")
    assert recount_org("org_a") == first
    assert counters("org_a") == first


def test_a_counter_below_zero_from_items_older_than_counters_reads_as_zero(admin):
    # A stage that had invitations before counters and has not been recounted yet: the first expiry subtracts.
    stored = InvitationModel(
        "inv_old",
        org_id="org_a",
        state="SENT",
        created_by="usr_x",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        expires_at=datetime(2026, 1, 8, tzinfo=timezone.utc),
    )
    stored.state_key = stored.state_key_in("SENT")
    stored.save()
    invitations.expire_invitations()
    assert CounterModel.get("org_a", "invitations#SENT").total == -1
    assert count_invitations(admin, "org_a", "SENT") == 0


def test_closed_invitations_are_deleted_with_their_count_a_day_before_their_ttl_and_open_ones_stay(admin):
    from chalicelib.services.tenants.invitation_retention import purge_closed_invitations

    revoked = invitations.create_invitation(admin, {"roles": ["VIEWER"], "valid_days": 7})
    invitations.revoke_invitation(admin, revoked["id"])
    kept_open = invitations.create_invitation(admin, {"roles": ["VIEWER"], "valid_days": 7})
    stored = InvitationModel.get(revoked["id"])
    assert stored.ttl == (stored.expires_at + timedelta(days=90)).replace(microsecond=0)  # TTL keeps seconds
    assert purge_closed_invitations(stored.ttl - timedelta(days=2)) == {"purged": 0}
    assert purge_closed_invitations(stored.ttl - timedelta(hours=12)) == {"purged": 1}
    assert purge_closed_invitations(stored.ttl - timedelta(hours=12)) == {"purged": 0}  # idempotent
    assert InvitationModel.count(revoked["id"]) == 0 and InvitationModel.count(kept_open["id"]) == 1
    assert counters("org_a") == recounted("org_a")
    assert count_invitations(admin, "org_a") == 1


def test_a_sent_invitation_keeps_its_ttl_as_far_after_its_renewed_expiry_as_a_new_one(admin, mailbox):
    made = invitations.create_invitation(admin, {"roles": ["VIEWER"], "email": "ttl@example.com", "valid_days": 3})
    later = clock.now() + timedelta(days=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: later)
        invitations.send_invitation(admin, made["id"])
    stored = InvitationModel.get(made["id"])
    assert stored.expires_at == later + timedelta(days=3)
    assert stored.ttl == (stored.expires_at + timedelta(days=90)).replace(microsecond=0)  # TTL keeps seconds


def test_the_hourly_job_deletes_a_closed_invitation_past_its_retention_with_its_count(admin):
    import app
    from chalicelib.local import run_scheduled_jobs

    made = invitations.create_invitation(admin, {"roles": ["VIEWER"], "valid_days": 1})
    invitations.revoke_invitation(admin, made["id"])
    InvitationModel(made["id"]).update(
        actions=[InvitationModel.expires_at.set(clock.now() - timedelta(days=100))]  # revoked long ago
    )
    run_scheduled_jobs(app)
    assert InvitationModel.count(made["id"]) == 0
    assert counters("org_a") == recounted("org_a")
    assert "invitations#REVOKED" not in counters("org_a")
