"""The OpenAPI document fits generated clients: named schemas, typed query parameters, required bodies."""

import itertools

import pytest
from jsonschema import Draft202012Validator

import app  # noqa: F401  (registers every route before the parameters below are built)
from chalicelib.api.http import ROUTES
from tests.api.test_bad_input import assert_error, concrete, route_id

REF = "#/components/schemas/"


def resolved(document, schema):
    """The schema with every $ref to a component replaced by the component, recursively."""
    if isinstance(schema, dict):
        if set(schema) == {"$ref"}:
            return resolved(document, document["components"]["schemas"][schema["$ref"][len(REF) :]])
        return {key: resolved(document, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolved(document, value) for value in schema]
    return schema


@pytest.fixture
def document(api):
    return api.call("GET", "/openapi.json").data


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def component_name(schema):
    ref = schema.get("$ref", "")
    return ref[len(REF) :] if ref.startswith(REF) else None


def test_every_json_answer_is_a_named_component_and_every_list_answers_a_page(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            name = component_name(schema)
            assert name in document["components"]["schemas"], (method, path, status, schema)
            if (
                status.startswith("2")
                and method == "get"
                and "cursor" in {parameter["name"] for parameter in operation.get("parameters", [])}
            ):
                fields = document["components"]["schemas"][name]["properties"].values()
                pages = [component_name(field) or "" for field in fields]
                assert name.endswith("Page") or any(page.endswith("Page") for page in pages), (path, name)
            if status >= "400":
                assert name == "Error"


def test_resources_pages_and_bodies_have_short_names_and_no_component_repeats_another(document):
    named = document["components"]["schemas"]
    assert {
        "Device",
        "DevicePage",
        "Error",
        "Session",
        "User",
        "UserPage",
        "LoginRequest",
        "DeviceKeys",
        "DeviceImport",
        "DeviceImportItem",
        "DeviceImportResult",
        "Installation",
        "InstallationPage",
    } <= set(named)
    assert named["DevicePage"]["properties"]["items"] == {"type": "array", "items": {"$ref": REF + "Device"}}
    assert named["Session"]["properties"]["user"] == {"$ref": REF + "User"}
    bodies = [
        operation["requestBody"]["content"].get("application/json", {}).get("schema")
        for _, _, operation in operations(document)
        if "requestBody" in operation
    ]
    assert all(component_name(schema) for schema in bodies if schema), "every JSON body is a named component"
    assert len({repr(sorted(schema.items())) for schema in named.values()}) == len(named)


def test_query_parameters_show_the_type_they_stand_for(document):
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert not any(key.startswith("x-published") for key in schema)
            if parameter["name"] == "limit":
                assert schema == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, path
    templates = {
        parameter["name"]: parameter["schema"] for parameter in document["paths"]["/templates"]["get"]["parameters"]
    }
    assert templates["active"] == {"type": "boolean"}
    assert templates["type"] == {"$ref": REF + "MailType"}
    devices = {
        parameter["name"]: parameter["schema"] for parameter in document["paths"]["/devices"]["get"]["parameters"]
    }
    assert devices["claim_status"] == {"$ref": REF + "ClaimStatus"}


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("limit=2", 200, None),
        ("limit=500", 200, None),
        ("limit=0", 422, "invalid_limit"),
        ("limit=501", 422, "invalid_limit"),
        ("limit=1000", 422, "validation_failed"),
        ("limit=two", 422, "validation_failed"),
        ("active=true", 200, None),
        ("active=false", 200, None),
        ("active=yes", 422, "validation_failed"),
        ("active=True", 422, "validation_failed"),
    ],
)
def test_typed_query_parameters_are_still_parsed_as_before(api, login_as, query, status, code):
    response = api.call("GET", "/templates?owner=system&" + query, token=login_as("OPERATOR"))
    if code:
        assert_error(response, status, code)
    else:
        assert response.status_code == status, response.body


@pytest.mark.parametrize("spec", [spec for spec in ROUTES if spec.body is not None], ids=route_id)
def test_a_body_is_published_as_required_exactly_where_an_empty_one_is_refused(api, login_as, document, spec):
    token = None if spec.public else login_as("OPERATOR")
    response = api.call(spec.method, concrete(spec.path), token=token)
    refused = response.status_code == 422 and response.data["error"]["code"] == "validation_failed"
    assert document["paths"][spec.path][spec.method.lower()]["requestBody"]["required"] is refused


def minimal(schema):
    """The smallest instance of a (closed, pattern-free) schema: what a client sends for each field."""
    kind = schema.get("type")
    if kind == "object":
        return {name: minimal(schema["properties"][name]) for name in schema.get("required", [])}
    return {
        "string": "x" * schema.get("minLength", 1),
        "boolean": True,
        "integer": schema.get("minimum", 1),
        "array": [],
    }[kind]


@pytest.mark.parametrize(
    "spec", [spec for spec in ROUTES if spec.body is not None and spec.body.get("anyOf")], ids=route_id
)
def test_a_body_needing_one_set_of_fields_among_several_is_published_as_one_model_per_set_accepting_the_same(
    document, spec
):
    published = document["paths"][spec.path][spec.method.lower()]["requestBody"]["content"]["application/json"]
    union = document["components"]["schemas"][component_name(published["schema"])]
    assert [component_name(branch) for branch in union["anyOf"]] and all(
        component_name(branch) for branch in union["anyOf"]
    )
    checked, shown = Draft202012Validator(spec.body), Draft202012Validator(resolved(document, union))
    fields = list(spec.body["properties"])
    for count in range(len(fields) + 1):
        for chosen in itertools.combinations(fields, count):
            body = {name: minimal(spec.body["properties"][name]) for name in chosen}
            for variant in (body, {**body, "unknown": 1}, {**body, fields[0]: 12345}):
                assert checked.is_valid(variant) == shown.is_valid(variant), variant
    assert any(
        checked.is_valid({name: minimal(spec.body["properties"][name]) for name in chosen})
        for count in range(len(fields) + 1)
        for chosen in itertools.combinations(fields, count)
    )


def test_the_json_import_describes_its_items_and_the_csv_import_is_a_file(document):
    content = document["paths"]["/devices/import"]["post"]["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": REF + "DeviceImport"}
    named = document["components"]["schemas"]
    assert named["DeviceImport"]["properties"]["items"]["items"] == {"$ref": REF + "DeviceImportItem"}
    assert named["DeviceImportItem"]["properties"]["keys"]["items"] == {"$ref": REF + "DeviceImportKey"}
    assert named["DeviceImportKey"]["properties"]["algorithm"] == {"$ref": REF + "KeyAlgorithm"}
    assert content["text/csv"]["schema"]["type"] == "string" and content["text/csv"]["schema"]["format"] == "binary"


def test_an_item_outside_the_published_description_is_a_rejected_row_not_a_refused_import(api, login_as):
    response = api.call(
        "POST", "/devices/import", {"items": [{"serial": "SN-OPENAPI-1"}, 5]}, token=login_as("OPERATOR")
    )
    assert response.status_code == 200, response.body
    assert [row["line"] for row in response.data["rejected"]] == [1, 2] and response.data["imported"] == 0
