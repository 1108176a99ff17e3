"""Routes of the audit trail."""

from chalice import Blueprint

from chalicelib.api import device_schemas as schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.audit import trail as audit_trail

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/audit",
    "GET",
    summary="Audit events of the organizations in scope, newest first",
    query=schemas.AUDIT_QUERY,
    response=schemas.paged(schemas.AUDIT_EVENT),
    errors=(400, 404),
)
def list_events(call):
    return audit_trail.list_events(
        call.principal,
        org_id=call.query.get("org_id"),
        action=call.query.get("action"),
        actor_id=call.query.get("actor_id"),
        since=call.query.get("since"),
        until=call.query.get("until"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )
