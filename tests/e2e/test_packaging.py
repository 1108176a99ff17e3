"""`make package`: a SAM template and a zip for AWS, built offline, carrying templates/."""
import fcntl
import json
import os
import re
import subprocess
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
        result = subprocess.run(["make", "--no-print-directory", "package", f"OUT={out}"], cwd=PROJECT_DIR,
                                env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((out / "sam.json").read_text())
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = set(archive.namelist())
    return template, names


def test_the_zip_carries_every_template_file_next_to_app_py(package):
    _, names = package
    templates = {os.path.relpath(os.path.join(folder, name), PROJECT_DIR)
                 for folder, _, files in os.walk(os.path.join(PROJECT_DIR, "templates")) for name in files}
    assert templates and templates <= names
    assert "app.py" in names and "chalicelib/models/__init__.py" in names


def test_the_zip_leaves_out_tests_and_test_libraries(package):
    _, names = package
    assert not [name for name in names if name.startswith(("tests/", "moto/", "_pytest/", "pytest/", "node_modules/"))]


def test_the_template_declares_the_tables_the_kms_key_and_the_hourly_schedule(package):
    template, _ = package
    resources = template["Resources"]
    tables = {resource["Properties"]["TableName"]["Fn::Sub"] for resource in resources.values()
              if resource["Type"] == "AWS::DynamoDB::Table"}
    assert tables == {"keyport-${Stage}-" + model.Meta.base_name for model in models.ALL_MODELS}
    assert any(resource["Type"] == "AWS::KMS::Key" for resource in resources.values())
    functions = [resource for resource in resources.values() if resource["Type"] == "AWS::Serverless::Function"]
    schedules = [event["Properties"]["Schedule"] for function in functions
                 for event in function["Properties"].get("Events", {}).values() if event["Type"] == "Schedule"]
    assert schedules == ["rate(1 hour)"] * 3  # invitations, exports, installations
    assert template["Globals"]["Function"]["Environment"]["Variables"]["KEYPORT_KMS_KEY_ARN"]
    assert all(function["Properties"]["Environment"]["Variables"]["KEYPORT_STAGE"] == "dev" for function in functions)


def test_the_export_worker_reads_the_declared_queue_and_may_run_fifteen_minutes(package):
    template, _ = package
    resources = template["Resources"]
    worker = resources["ExportWorker"]
    source = worker["Properties"]["Events"]["ExportWorkerSqsEventSource"]["Properties"]
    assert source["Queue"] == {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:keyport-dev-exports"}
    assert source["BatchSize"] == 1 and worker["DependsOn"] == ["ExportQueue"]
    assert worker["Properties"]["Timeout"] == 900
    # The hourly jobs write one item at a time: they get minutes, not API Gateway's 29 s.
    assert resources["ExpireInvitations"]["Properties"]["Timeout"] == 600
    assert resources["ExpireExports"]["Properties"]["Timeout"] == 600
    assert resources["ExpireInstallations"]["Properties"]["Timeout"] == 600
    assert resources["ExportQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "keyport-${Stage}-exports"}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["KEYPORT_EXPORT_QUEUE_URL"] == {"Ref": "ExportQueue"}
    assert variables["KEYPORT_EXPORT_BUCKET"] == {"Ref": "ExportBucket"}


def test_every_function_runs_on_python_3_13(package):
    # chalice takes the Runtime from the Python that packages: python3.11 is deprecated on Lambda (Amazon Linux 2).
    template, _ = package
    runtime = template.get("Globals", {}).get("Function", {}).get("Runtime")
    functions = {name: resource["Properties"].get("Runtime", runtime) for name, resource in
                 template["Resources"].items() if resource["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 5 and set(functions.values()) == {"python3.13"}, functions


def test_the_zip_carries_exactly_the_distributions_of_the_runtime_lock(package):
    _, names = package
    pins = {}
    with open(os.path.join(PROJECT_DIR, "requirements.txt")) as lock:
        for line in lock:
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
            if match:
                pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    carried = {}
    for folder in {name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info")}:
        distribution, version = folder[:-len(".dist-info")].rsplit("-", 1)
        carried[re.sub(r"[-_.]+", "-", distribution).lower()] = version
    assert "pynamodb" in carried and "chalice" not in carried
    assert carried == pins
