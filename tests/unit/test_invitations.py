"""The hourly expiry of invitations."""

from datetime import datetime, timedelta, timezone

from chalicelib.models import AuditEventModel, InvitationModel
from chalicelib.services.tenants.invitations import expire_invitations

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def invitation(number, state, expires_in_hours):
    item = InvitationModel(
        f"inv_{number}",
        org_id="org_a",
        state=state,
        created_by="usr_x",
        created_at=NOW,
        expires_at=NOW + timedelta(hours=expires_in_hours),
    )
    item.save()
    return item


def states():
    return {item.invitation_id: item.state for item in InvitationModel.scan()}


def test_open_invitations_past_expiry_become_expired_and_nothing_else_changes(aws):
    invitation(1, "SENT", -1)
    invitation(2, "CREATED", -30)
    invitation(3, "SENT", +1)
    invitation(4, "ACCEPTED", -5)
    invitation(5, "REVOKED", -5)
    result = expire_invitations(now=NOW)
    assert states() == {
        "inv_1": "EXPIRED",
        "inv_2": "EXPIRED",
        "inv_3": "SENT",
        "inv_4": "ACCEPTED",
        "inv_5": "REVOKED",
    }
    assert result == {"read": 2, "expired": 2}
    assert sorted(event.target for event in AuditEventModel.scan() if event.action == "invitation_expired") == [
        "inv_1",
        "inv_2",
    ]


def test_expiry_is_idempotent(aws):
    invitation(1, "SENT", -1)
    expire_invitations(now=NOW)
    assert expire_invitations(now=NOW) == {"read": 0, "expired": 0}


def test_the_scheduled_function_runs_the_expiry(aws):
    import app
    from chalicelib.local import run_scheduled_jobs

    invitation(1, "SENT", -(24 * 400))  # long past, whatever "now" is
    run_scheduled_jobs(app)
    assert states() == {"inv_1": "EXPIRED"}
