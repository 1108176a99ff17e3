"""Routes of invitations and their public side (the page the e-mailed link opens is chalicelib/web's)."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.tenants import invitations

bp = Blueprint(__name__)
ONE = "/invitations/{invitation_id}"


@endpoint(
    bp,
    "/invitations",
    "GET",
    summary="Invitations in scope (filters org_id, state)",
    query=schemas.INVITATION_QUERY,
    response=schemas.paged_with_total(schemas.INVITATION),
    errors=(400, 404),
)
def list_invitations(call):
    return invitations.list_invitations(
        call.principal,
        org_id=call.query.get("org_id"),
        state=call.query.get("state"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    "/invitations/targets",
    "GET",
    summary="Organizations and roles the actor may invite into",
    response=schemas.INVITATION_TARGETS,
)
def invitation_targets(call):
    return invitations.invitation_targets(call.principal)


@endpoint(
    bp,
    "/invitations",
    "POST",
    summary="Prepare an invitation (nothing is sent yet)",
    status=201,
    body=schemas.INVITATION_CREATE,
    response=schemas.INVITATION,
    errors=(404,),
)
def create_invitation(call):
    return invitations.create_invitation(call.principal, call.body)


@endpoint(bp, ONE, "GET", summary="One invitation", response=schemas.INVITATION, errors=(404,))
def get_invitation(call, invitation_id):
    return invitations.read_invitation(call.principal, invitation_id)


@endpoint(
    bp,
    ONE,
    "PATCH",
    summary="Edit an open invitation",
    body=schemas.INVITATION_PATCH,
    response=schemas.INVITATION,
    errors=(404, 409),
)
def patch_invitation(call, invitation_id):
    return invitations.update_invitation(call.principal, invitation_id, call.body)


@endpoint(
    bp,
    ONE + "/send",
    "POST",
    summary="Send (or resend) the invitation mail",
    body=schemas.INVITATION_SEND,
    response=schemas.INVITATION,
    errors=(404, 409, 429, 502),
)
def send_invitation(call, invitation_id):
    return invitations.send_invitation(call.principal, invitation_id, call.body.get("email"))


@endpoint(
    bp, ONE + "/revoke", "POST", summary="Revoke an open invitation", response=schemas.INVITATION, errors=(404, 409)
)
def revoke_invitation(call, invitation_id):
    return invitations.revoke_invitation(call.principal, invitation_id)


@endpoint(
    bp,
    "/public/invitations/{token}",
    "GET",
    summary="What an invitation link offers",
    public=True,
    response=schemas.PUBLIC_INVITATION,
    errors=(410,),
)
def view_invitation(call, token):
    return invitations.view_invitation(token)


@endpoint(
    bp,
    "/public/invitations/{token}/accept",
    "POST",
    summary="Accept an invitation: creates the user",
    status=201,
    public=True,
    body=schemas.INVITATION_ACCEPT,
    response=schemas.USER,
    errors=(409, 410, 429),
)
def accept_invitation(call, token):
    return invitations.accept_invitation(token, call.body)
