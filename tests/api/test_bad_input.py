"""Every route meets malformed, mistyped, incomplete, unknown, overlong and oversized input calmly."""

import json

import pytest

import app  # noqa: F401  (registers every route before the parameters below are built)
from chalicelib.api.http import ROUTES

BODY_ROUTES = [spec for spec in ROUTES if spec.body is not None]
WRONG_TYPES = {"string": 12345, "boolean": "yes", "array": "not-a-list", "object": ["x"], "integer": "one"}


def route_id(spec):
    return f"{spec.method} {spec.path}"


def concrete(path):
    return path.replace("{", "x").replace("}", "")


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.body[:300])
    assert set(response.data) == {"error"} and response.data["error"]["message"]
    if code:
        assert response.data["error"]["code"] == code


@pytest.fixture
def send(api, login_as):
    def _send(spec, raw):
        token = None if spec.public else login_as("OPERATOR")
        return api.call(spec.method, concrete(spec.path), raw=raw, token=token)

    return _send


@pytest.mark.parametrize("spec", ROUTES, ids=route_id)
def test_a_body_over_the_limit_answers_413(send, spec):
    limit = spec.max_body or 1024 * 1024  # 1 MB, device imports 6 MB
    assert_error(send(spec, json.dumps({"name": "x" * limit})), 413, "body_too_large")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_malformed_json_answers_400(send, spec):
    assert_error(send(spec, '{"email": "a@b.c", '), 400, "invalid_json")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_body_that_is_not_an_object_answers_422(send, spec):
    assert_error(send(spec, "[1, 2]"), 422, "validation_failed")


@pytest.mark.parametrize("spec", [s for s in BODY_ROUTES if s.body.get("required")], ids=route_id)
def test_missing_required_fields_answer_422_naming_them(send, spec):
    response = send(spec, "{}")
    assert_error(response, 422, "validation_failed")
    details = response.data["error"]["details"]
    assert {problem["field"] for problem in details if problem["field"]} == set(spec.body["required"])
    for branch_choice in [problem for problem in details if not problem["field"]]:  # "serials or file"
        assert spec.body.get("anyOf") and branch_choice["problem"].startswith("needs ")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_unknown_fields_answer_422(send, spec):
    response = send(spec, json.dumps({"surprise_field": 1}))
    assert_error(response, 422, "validation_failed")
    assert "surprise_field" in [problem["field"] for problem in response.data["error"]["details"]]


@pytest.mark.parametrize(
    "spec, field",
    [(s, f) for s in BODY_ROUTES for f in s.body["properties"]],
    ids=lambda v: v if isinstance(v, str) else route_id(v),
)
def test_a_field_of_the_wrong_type_answers_422(send, spec, field):
    expected = spec.body["properties"][field].get("type", "string")
    response = send(spec, json.dumps({field: WRONG_TYPES[expected]}))
    assert_error(response, 422, "validation_failed")
    assert field in [problem["field"] for problem in response.data["error"]["details"]]


@pytest.mark.parametrize(
    "spec, field",
    [(s, f) for s in BODY_ROUTES for f, schema in s.body["properties"].items() if "maxLength" in schema],
    ids=lambda v: v if isinstance(v, str) else route_id(v),
)
def test_an_overlong_string_answers_422_without_echoing_it(send, spec, field):
    overlong = "y" * (spec.body["properties"][field]["maxLength"] + 1)
    response = send(spec, json.dumps({field: overlong}))
    assert_error(response, 422, "validation_failed")
    assert overlong.encode() not in response.body


def test_every_string_field_of_every_body_has_a_maximum_length():
    for spec in BODY_ROUTES:
        for field, schema in spec.body["properties"].items():
            if schema.get("type") == "string":
                assert "maxLength" in schema or "enum" in schema, (route_id(spec), field)


def test_a_wrong_content_type_answers_415_in_the_error_shape(api):
    response = api.call("POST", "/auth/login", raw="email=a", headers={"Content-Type": "application/xml"})
    assert_error(response, 415, "unsupported_media_type")


def test_an_unsupported_method_answers_405_in_the_error_shape(api):
    response = api.call("DELETE", "/me")
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_50000_deep_json_body_answers_400(send, spec):
    assert_error(send(spec, "[" * 50_000 + "]" * 50_000), 400, "invalid_json")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_body_nested_deeper_than_any_request_needs_answers_400_before_validation(send, spec):
    field = next(iter(spec.body["properties"]))
    assert_error(
        send(spec, json.dumps({field: [{"a": 1}]}).replace("[", "[" * 200).replace("]", "]" * 200)), 400, "invalid_json"
    )


LIST_ROUTES = [
    spec
    for spec in ROUTES
    if spec.method == "GET" and "cursor" in (spec.query or {}) and not spec.portal and "{" not in spec.path
]


def old_style_cursor(key):
    """A cursor in the readable form once handed out: base64 JSON of a start key."""
    import base64

    return base64.urlsafe_b64encode(json.dumps({"q": 0, "k": key}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        old_style_cursor({"x": {"S": "y"}}),
        old_style_cursor(None),
        old_style_cursor({"org_id": {"S": "root"}, "serial": {"N": "1"}}),
        "A" * 64,
    ],
    ids=["unknown-key", "no-key", "wrong-types", "random"],
)
@pytest.mark.parametrize("spec", LIST_ROUTES, ids=route_id)
def test_a_forged_cursor_answers_400_on_every_list_route(api, login_as, spec, cursor):
    response = api.call("GET", f"{spec.path}?cursor={cursor}", token=login_as("OPERATOR"))
    assert_error(response, 400, "invalid_cursor")


def test_a_recipient_jwk_nested_past_the_parsers_stack_answers_422(api, login_as):
    deep = "[" * 1999 + "]" * 1999
    token = login_as("OPERATOR")
    response = api.call("GET", f"/devices/keys?format=jwe&recipient_jwk={deep}", token=token)
    assert_error(response, 422, "recipient_key_invalid")
    response = api.call("POST", "/exports", {"format": "jwe", "recipient_jwk": deep}, token=token)
    assert_error(response, 422)


def _text_fields(properties):
    """(field, the value shape) of every top-level free-text field: a string or a list of strings, nullable or not."""
    found = []
    for name, schema in properties.items():
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string" and "enum" not in branch:
                found.append((name, "string"))
            elif (
                branch.get("type") == "array"
                and branch.get("items", {}).get("type") == "string"
                and "enum" not in branch["items"]
            ):
                found.append((name, "array"))
    return found


TEXT_BODY_FIELDS = [
    (spec, name, shape) for spec in BODY_ROUTES for name, shape in _text_fields(spec.body["properties"])
]
# Portal routes answer 401 to a user session before reading the query; their parameters are the paging ones.
TEXT_QUERY_PARAMETERS = [
    (spec, name) for spec in ROUTES if not spec.portal for name, _ in _text_fields(spec.query or {})
]
VALID_BODIES = {"POST /devices/import": {"items": []}}  # the body is checked before the query


def _nameit(value):
    return value if isinstance(value, str) else route_id(value)


@pytest.mark.parametrize("spec, field, shape", TEXT_BODY_FIELDS, ids=_nameit)
@pytest.mark.parametrize("bad", ["Meter\ud800", "Me\x00ter", "Meter\x1b[2J", "Me\u0085ter"])
def test_an_unpaired_surrogate_or_control_character_in_any_text_field_answers_422_naming_it(
    send, spec, field, shape, bad
):
    value = bad if shape == "string" else [bad]
    response = send(spec, json.dumps({field: value}))  # json.dumps escapes "\ud800": the edge decodes it alone
    assert_error(response, 422, "validation_failed")
    problems = [p["problem"] for p in response.data["error"]["details"] if p["field"].split(".")[0] == field]
    assert any("surrogate" in problem or "control characters" in problem for problem in problems), problems


@pytest.mark.parametrize("spec, name", TEXT_QUERY_PARAMETERS, ids=_nameit)
def test_a_control_character_in_any_text_query_parameter_answers_422_naming_it(api, login_as, spec, name):
    token = None if spec.public else login_as("OPERATOR")
    response = api.call(
        spec.method, f"{concrete(spec.path)}?{name}=Meter%1B%5B2J", VALID_BODIES.get(route_id(spec)), token=token
    )
    assert_error(response, 422, "validation_failed")
    assert {"field": name, "problem": "must not contain control characters"} in response.data["error"]["details"]


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("PATCH", "/me", {"name": "Ada\nLovelace"}, "name"),
        ("POST", "/orgs", {"name": "Acme\tInc"}, "name"),
        ("POST", "/sites", {"name": "Plant", "address": "Main St 1\r\nBerlin"}, "address"),
        ("PATCH", "/templates/tpl_x", {"subject": "Welcome\r\nBcc: x@example.com"}, "subject"),
        ("POST", "/batches", {"reference": "R-1\n", "org_id": "root", "serials": ["SN-1"]}, "reference"),
    ],
)
def test_a_tab_or_line_break_in_a_one_line_field_answers_422(api, login_as, method, path, body, field):
    response = api.call(method, path, body, token=login_as("OPERATOR"))
    assert_error(response, 422, "validation_failed")
    assert {"field": field, "problem": "must be one line: no tabs or line breaks"} in response.data["error"]["details"]


def test_a_mail_template_body_keeps_its_lines_and_tabs_but_refuses_control_characters(api, login_as):
    from chalicelib.services.mail_templates.templates import sync_default_templates

    sync_default_templates()
    token = login_as("OPERATOR")
    copy = api.call("POST", "/templates/tpl_system_invite_de/copy", token=token)
    assert copy.status_code == 201, copy.body
    path = f"/templates/{copy.data['id']}"
    lines = "Hallo {{ recipient_name }},\r\n\r\n\tbitte hier entlang: {{ link }}\n"
    edited = api.call("PATCH", path, {"text": lines, "html": "<p>\n\t{{ link }}\n</p>"}, token=token)
    assert edited.status_code == 200, edited.body
    assert edited.data["text"] == lines
    for body in ({"text": lines + "\x00"}, {"html": "<p>{{ link }}\ud800</p>"}, {"subject": "Hallo\x07 {{ link }}"}):
        refused = api.call("PATCH", path, body, token=token)
        assert_error(refused, 422, "validation_failed")
    assert api.call("GET", path, token=token).data["text"] == lines
