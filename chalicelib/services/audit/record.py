"""The audit trail: every security-relevant act, who did it, when, on what."""

import secrets
from typing import Any, Dict, Optional

from chalicelib import clock
from chalicelib.models import AuditEventModel, time_ordered_key

SYSTEM_ORG = "-"  # events with no organization, such as a failed login for an unknown e-mail


def record_event(
    actor_id: str,
    action: str,
    org_id: Optional[str],
    target: Optional[str] = None,
    detail: Optional[Dict[str, Any]] = None,
) -> AuditEventModel:
    """Write one audit event; never pass secrets in target or detail."""
    now = clock.now()
    event = AuditEventModel(
        org_id or SYSTEM_ORG,
        time_ordered_key(now, secrets.token_hex(4)),
        at=now,
        actor_id=actor_id,
        action=action,
        target=target,
        detail=detail,
    )
    event.save()
    return event


def event_view(event: AuditEventModel) -> Dict[str, Any]:
    """An audit event as the API shows it."""
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "org_id": event.org_id,
        "action": event.action,
        "target": event.target,
        "detail": event.detail,
    }
