"""Routes of user management."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.tenants import user_admin

bp = Blueprint(__name__)
ONE = "/users/{user_id}"


@endpoint(
    bp,
    "/users",
    "GET",
    summary="Users in scope (filters name, e-mail prefix, org_id, role)",
    query=schemas.USER_QUERY,
    response=schemas.paged_with_total(schemas.USER),
    errors=(400, 404),
)
def list_users(call):
    query = call.query
    return user_admin.list_users(
        call.principal,
        name=query.get("name"),
        email=query.get("email"),
        org_id=query.get("org_id"),
        role=query.get("role"),
        limit=parse_limit(query.get("limit")),
        cursor=query.get("cursor"),
    )


@endpoint(
    bp,
    "/users",
    "POST",
    summary="Create a user; without a password its credentials are sent",
    status=201,
    body=schemas.USER_CREATE,
    response=schemas.USER_CREATED,
    errors=(404, 409, 502),
)
def create_user(call):
    return user_admin.create_user(call.principal, call.body)


@endpoint(bp, ONE, "GET", summary="One user", response=schemas.USER, errors=(404,))
def get_user(call, user_id):
    return user_admin.read_user(call.principal, user_id)


@endpoint(bp, ONE, "PATCH", summary="Change a user", body=schemas.USER_PATCH, response=schemas.USER, errors=(404,))
def patch_user(call, user_id):
    return user_admin.update_user(call.principal, user_id, call.body)


@endpoint(bp, ONE, "DELETE", summary="Disable a user and end its sessions", status=204, errors=(404,))
def delete_user(call, user_id):
    user_admin.disable_user(call.principal, user_id)


@endpoint(
    bp,
    ONE + "/password",
    "POST",
    summary="Set a user's password (to be changed at next login)",
    status=204,
    body=schemas.NEW_PASSWORD,
    errors=(404,),
)
def set_password(call, user_id):
    user_admin.set_user_password(call.principal, user_id, call.body["new_password"])
