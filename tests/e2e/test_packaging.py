"""`make package`: a SAM template and a zip for AWS, built offline, carrying templates/; the template passes
cfn-lint and `sam validate --lint` without an error or a warning."""

import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import pytest

from chalicelib import models
from chalicelib.local import PROJECT_DIR


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "out"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "KEYPORT_"))}
    # xdist may hand this module's tests to both workers: each builds its package, and `make package` rewrites
    # vendor/templates in the tree, so the two builds take turns.
    with open(os.path.join(tempfile.gettempdir(), "keyport-make-package.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["make", "--no-print-directory", "package", f"OUT={out}"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((out / "sam.json").read_text())
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = set(archive.namelist())
    return template, names, out / "sam.json"


def test_the_zip_carries_every_template_file_next_to_app_py(package):
    _, names, _ = package
    templates = {
        os.path.relpath(os.path.join(folder, name), PROJECT_DIR)
        for folder, _, files in os.walk(os.path.join(PROJECT_DIR, "templates"))
        for name in files
    }
    assert templates and templates <= names
    assert "app.py" in names and "chalicelib/models/__init__.py" in names


def test_the_zip_leaves_out_tests_and_test_libraries(package):
    _, names, _ = package
    assert not [name for name in names if name.startswith(("tests/", "moto/", "_pytest/", "pytest/", "node_modules/"))]


def test_the_template_declares_the_tables_the_kms_key_and_the_hourly_schedule(package):
    template, *_ = package
    resources = template["Resources"]
    tables = {
        resource["Properties"]["TableName"]["Fn::Sub"]
        for resource in resources.values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    assert tables == {"keyport-${Stage}-" + model.Meta.base_name for model in models.ALL_MODELS}
    assert any(resource["Type"] == "AWS::KMS::Key" for resource in resources.values())
    functions = [resource for resource in resources.values() if resource["Type"] == "AWS::Serverless::Function"]
    schedules = [
        event["Properties"]["Schedule"]
        for function in functions
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Schedule"
    ]
    assert schedules == ["rate(1 hour)"] * 3  # invitations, exports, installations
    assert template["Globals"]["Function"]["Environment"]["Variables"]["KEYPORT_KMS_KEY_ARN"]
    assert all(function["Properties"]["Environment"]["Variables"]["KEYPORT_STAGE"] == "dev" for function in functions)


def test_the_export_worker_reads_the_declared_queue_and_may_run_fifteen_minutes(package):
    template, *_ = package
    resources = template["Resources"]
    worker = resources["ExportWorker"]
    source = worker["Properties"]["Events"]["ExportWorkerSqsEventSource"]["Properties"]
    assert source["Queue"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:keyport-dev-exports"
    }
    # The event source names the queue by ARN: the worker's role (which reads the queue) makes it wait for the queue.
    assert source["BatchSize"] == 1
    assert {"Fn::GetAtt": ["ExportQueue", "Arn"]} in [
        statement["Resource"]
        for statement in resources["ExportWorkerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ]
    assert worker["Properties"]["Timeout"] == 900
    # The hourly jobs write one item at a time: they get minutes, not API Gateway's 29 s.
    assert resources["ExpireInvitations"]["Properties"]["Timeout"] == 600
    assert resources["ExpireExports"]["Properties"]["Timeout"] == 600
    assert resources["ExpireInstallations"]["Properties"]["Timeout"] == 600
    assert resources["ExportQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "keyport-${Stage}-exports"}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["KEYPORT_EXPORT_QUEUE_URL"] == {"Ref": "ExportQueue"}
    assert variables["KEYPORT_EXPORT_BUCKET"] == {"Ref": "ExportBucket"}


def test_api_gateway_compresses_answers_over_a_kilobyte_for_browsers_that_accept_it(package):
    # The console's pages and stylesheet travel gzipped (issue 21: at most 60 KB per page, compressed where the
    # client accepts it); API Gateway does it, so the function answers plain text.
    template, _, _ = package
    assert template["Resources"]["RestAPI"]["Properties"]["MinimumCompressionSize"] == 1024


def test_the_template_takes_only_the_stage_it_was_packaged_for(package):
    template, *_ = package
    stage = template["Parameters"]["Stage"]
    # The functions' KEYPORT_STAGE and the worker's queue ARN say dev: a Stage=prod deploy would mix the two.
    assert (stage["Default"], stage["AllowedValues"]) == ("dev", ["dev"])


FUNCTIONS = {
    "APIHandler": "api_handler",
    "ExportWorker": "export_worker",
    "ExpireInvitations": "expire-invitations",
    "ExpireExports": "expire-exports",
    "ExpireInstallations": "expire-installations",
}


def test_each_function_is_named_traced_logged_for_a_while_and_bound_to_its_own_policy(package):
    template, *_ = package
    resources = template["Resources"]
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"}
    assert functions == set(FUNCTIONS)
    with open(os.path.join(PROJECT_DIR, ".chalice", "config.json")) as handle:
        config = json.load(handle)["stages"]["dev"]["lambda_functions"]
    for cfn_name, function in FUNCTIONS.items():
        properties = resources[cfn_name]["Properties"]
        assert properties["FunctionName"] == {"Fn::Sub": f"keyport-${{Stage}}-{function}"}
        assert properties["Tracing"] == "Active"
        log_group = resources[cfn_name + "LogGroup"]
        assert log_group["Type"] == "AWS::Logs::LogGroup"
        assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/keyport-${{Stage}}-{function}"}
        role = resources[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        with open(os.path.join(PROJECT_DIR, ".chalice", config[function]["iam_policy_file"])) as handle:
            policy = json.load(handle)
        assert [entry["PolicyDocument"] for entry in role["Policies"]] == [policy]
        assert "ManagedPolicyArns" not in role


def test_the_api_answers_the_edges_own_errors_in_the_one_shape(package):
    template, *_ = package
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    assert json.loads(responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"]) == {
        "error": {"code": "route_not_found", "message": "No such route."}
    }
    assert responses["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    # The swagger paths chalice wrote are kept beside them (a merge, not a replacement).
    assert "/auth/login" in definition["paths"]


def test_every_path_sends_the_methods_it_does_not_declare_to_the_api_function(package):
    template, *_ = package
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    handler = (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${APIHandler.Arn}/invocations"
    )
    for path, methods in paths.items():
        integration = methods["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert (integration["type"], integration["uri"]) == ("aws_proxy", {"Fn::Sub": handler}), path


def test_a_method_a_route_does_not_answer_is_405_in_the_one_shape_with_allow():
    import app

    event = {
        "resource": "/auth/login",
        "path": "/auth/login",
        "httpMethod": "DELETE",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/auth/login",
            "httpMethod": "DELETE",
            "requestId": "r-1",
            "identity": {"sourceIp": "192.0.2.1"},
            "stage": "api",
            "path": "/api/auth/login",
        },
    }
    response = app.app(event, None)
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "POST"
    assert json.loads(response["body"]) == {
        "error": {"code": "method_not_allowed", "message": "This route does not answer that method."}
    }


def test_cfn_lint_finds_no_error_and_no_warning(package):
    *_, path = package
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_sam_validate_with_lint_finds_no_error_and_no_warning(package, tmp_path):
    *_, path = package
    sam = os.path.join(PROJECT_DIR, ".venv-sam", "bin", "sam")
    assert os.path.exists(sam), "`make test` builds .venv-sam from requirements-sam.txt"
    # It needs no AWS account: no credentials and no ~/.aws of the person running the tests.
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(HOME=str(tmp_path), SAM_CLI_TELEMETRY="0")
    result = subprocess.run(
        [sam, "validate", "--lint", "-t", str(path), "--region", "eu-central-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{path} is a valid SAM Template"


def test_every_function_runs_on_python_3_13(package):
    # chalice takes the Runtime from the Python that packages: python3.11 is deprecated on Lambda (Amazon Linux 2).
    template, *_ = package
    runtime = template.get("Globals", {}).get("Function", {}).get("Runtime")
    functions = {
        name: resource["Properties"].get("Runtime", runtime)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) == 5 and set(functions.values()) == {"python3.13"}, functions


def test_the_zip_carries_exactly_the_distributions_of_the_runtime_lock(package):
    _, names, _ = package
    pins = {}
    with open(os.path.join(PROJECT_DIR, "requirements.txt")) as lock:
        for line in lock:
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
            if match:
                pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    carried = {}
    for folder in {name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info")}:
        distribution, version = folder[: -len(".dist-info")].rsplit("-", 1)
        carried[re.sub(r"[-_.]+", "-", distribution).lower()] = version
    assert "pynamodb" in carried and "chalice" not in carried
    assert carried == pins
