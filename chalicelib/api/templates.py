"""Routes of e-mail templates."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.mail_templates import templates

bp = Blueprint(__name__)
ONE = "/templates/{template_id}"


@endpoint(
    bp,
    "/templates",
    "GET",
    summary="List templates of an owner (filters type, language, active)",
    query=schemas.TEMPLATE_QUERY,
    response=schemas.paged(schemas.TEMPLATE),
    errors=(400,),
)
def list_templates(call):
    active = call.query.get("active")
    return templates.list_templates(
        call.principal,
        owner=call.query.get("owner"),
        mail_type=call.query.get("type"),
        language=call.query.get("language"),
        active=None if active is None else active == "true",
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(bp, ONE, "GET", summary="One template", response=schemas.TEMPLATE, errors=(404,))
def get_template(call, template_id):
    return templates.get_template(call.principal, template_id)


@endpoint(
    bp,
    ONE,
    "PATCH",
    summary="Edit a template (not a system default)",
    body=schemas.TEMPLATE_PATCH,
    response=schemas.TEMPLATE,
    errors=(404, 409),
)
def patch_template(call, template_id):
    return templates.update_template(call.principal, template_id, call.body)


@endpoint(bp, ONE, "DELETE", summary="Delete an inactive template", status=204, errors=(404, 409))
def delete_template(call, template_id):
    templates.delete_template(call.principal, template_id)


@endpoint(
    bp,
    ONE + "/copy",
    "POST",
    summary='Copy a template as an INACTIVE "COPY OF <name>"',
    status=201,
    body=schemas.TEMPLATE_COPY,
    response=schemas.TEMPLATE,
    errors=(404,),
)
def copy_template(call, template_id):
    return templates.copy_template(call.principal, template_id, call.body.get("org_id"))


@endpoint(
    bp,
    ONE + "/activate",
    "POST",
    summary="Make a template the active one of its type and language",
    response=schemas.TEMPLATE,
    errors=(404, 409),
)
def activate_template(call, template_id):
    return templates.activate_template(call.principal, template_id)


@endpoint(
    bp,
    ONE + "/preview",
    "GET",
    summary="The template rendered with sample data",
    response=schemas.RENDERED,
    errors=(404, 422),
)
def preview_template(call, template_id):
    return templates.preview_template(call.principal, template_id)


@endpoint(
    bp,
    ONE + "/test",
    "POST",
    summary="Send the template, rendered with sample data, to an address",
    status=202,
    body=schemas.TEMPLATE_TEST,
    response=schemas.MESSAGE,
    errors=(404, 422, 429, 502),
)
def test_template(call, template_id):
    return templates.send_test_mail(call.principal, template_id, call.body["email"])
