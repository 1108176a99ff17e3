"""The page of one batch (the `new_batch` mail links to it): what the maker sent, and for the target's people who
decide, Confirm, or Reject after a second page that says what follows. Each calls the JSON routes' service."""

from typing import Any, Dict

from chalice import Response

from chalicelib.permissions import KEY_MANAGER, ORG_ADMIN, VIEWER
from chalicelib.services.devices import batches
from chalicelib.web.catalogs import N_
from chalicelib.web.console import Visit, page

PATH = "/console/batches/{batch_id}"
# Who reads batches (the catalog's readers and those who confirm): a site's people do not, batches concern whole
# organizations; an operator opens every page.
READERS = frozenset({ORG_ADMIN, KEY_MANAGER, VIEWER})
DECIDERS = frozenset({ORG_ADMIN, KEY_MANAGER})
STATES = {
    "CREATING": N_("Being created"),
    "MOVING": N_("Being created"),
    "PENDING": N_("Awaiting confirmation"),
    "CONFIRMING": N_("Being confirmed"),
    "CONFIRMED": N_("Confirmed"),
    "REJECTING": N_("Being rejected"),
    "REJECTED": N_("Rejected"),
}
NOTICES = {
    "confirmed": N_("You confirmed the batch: its devices are now in your catalog."),
    "rejected": N_("You rejected the batch: its devices are not assigned to your organization."),
}


@page(PATH, ("GET",), roles=READERS)
def batch_page(visit: Visit, batch_id: str) -> Response:
    """The batch; Confirm and Reject for the target's deciders while it awaits confirmation."""
    batch = batches.batch_overview(visit.principal, batch_id)
    notice = NOTICES.get(visit.query.get("done", ""))
    return visit.show("batch.html", **_shown(visit, batch), notice=visit.gettext(notice) if notice else "")


@page(PATH + "/confirm", ("POST",), roles=DECIDERS)
def confirm_form(visit: Visit, batch_id: str) -> Response:
    """Confirm: the devices become the target's (the service of POST /batches/{id}/confirm)."""
    batches.confirm_batch(visit.principal, batch_id)
    return visit.redirect(_path(batch_id) + "?done=confirmed")


@page(PATH + "/reject", ("GET",), roles=DECIDERS)
def reject_page(visit: Visit, batch_id: str) -> Response:
    """The question before a rejection: what follows, and the button that does it."""
    batch = batches.batch_overview(visit.principal, batch_id)
    if not batch["may_decide"]:
        return visit.redirect(_path(batch_id))  # decided meanwhile: the batch page says how
    return visit.show("batch_reject.html", **_shown(visit, batch))


@page(PATH + "/reject", ("POST",), roles=DECIDERS)
def reject_form(visit: Visit, batch_id: str) -> Response:
    """Reject: the devices are unclaimed again (the service of POST /batches/{id}/reject)."""
    batches.reject_batch(visit.principal, batch_id)
    return visit.redirect(_path(batch_id) + "?done=rejected")


def _path(batch_id: str) -> str:
    return PATH.format(batch_id=batch_id)


def _shown(visit: Visit, batch: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "title": visit.gettext(N_("Batch %(reference)s"), reference=batch["reference"]),
        "batch": batch,
        "path": _path(batch["id"]),
        "state": visit.gettext(STATES.get(batch["state"], batch["state"])),
        "devices": visit.ngettext("%(num)s device", "%(num)s devices", batch["count"]),
        "created": visit.when(batch["created_at"]),
    }
