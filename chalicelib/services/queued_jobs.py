"""The worker's side of jobs queued by public requests: which service function runs each kind."""

import logging
from typing import Any, Dict

from chalicelib.services.accounts.password_reset import mail_password_reset
from chalicelib.services.installers.registrations import take_registration

log = logging.getLogger("keyport.jobs")

_RUNNERS = {
    "password_reset": lambda body: mail_password_reset(body["email"]),
    "registration": lambda body: take_registration(body["registration_id"], body["fields"], body.get("source_ip")),
}


def run_job(body: Dict[str, Any]) -> None:
    """Run one queued job; an unknown kind is logged and dropped (redelivering it could never help)."""
    runner = _RUNNERS.get(str(body.get("job")))
    if runner is None:
        log.error("queued job of unknown kind %r dropped", body.get("job"))
        return
    runner(body)
