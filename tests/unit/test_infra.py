"""infra/ and .chalice/: the tables of the pynamodb models, each function's own least-privilege policy, the stage
parameters, what survives a teardown, the edge's error shape, log retention and alarms."""

import json
import os
import re

import pytest

from chalicelib import models
from chalicelib.api.statuses import status_of
from chalicelib.config import read_settings, stage_problems
from chalicelib.local import PROJECT_DIR
from tests.helpers import DEPLOYED

INFRA = json.load(open(os.path.join(PROJECT_DIR, "infra", "resources.json")))
DECLARED = {
    resource["Properties"]["TableName"]["Fn::Sub"].replace("keyport-${Stage}-", ""): resource["Properties"]
    for resource in INFRA["Resources"].values()
    if resource.get("Type") == "AWS::DynamoDB::Table"
}


def keys(schema):
    return sorted((key["AttributeName"], key["KeyType"]) for key in schema)


def test_infra_declares_one_table_per_model():
    assert set(DECLARED) == {model.Meta.base_name for model in models.ALL_MODELS}


@pytest.mark.parametrize("model", models.ALL_MODELS, ids=lambda model: model.Meta.base_name)
def test_keys_indexes_and_ttl_match_the_model(model):
    declared, schema = DECLARED[model.Meta.base_name], model._get_schema()
    assert keys(declared["KeySchema"]) == keys(schema["key_schema"])
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in declared["AttributeDefinitions"]) == sorted(
        (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
    )
    assert {
        index["IndexName"]: (keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
        for index in declared.get("GlobalSecondaryIndexes", [])
    } == {
        index["index_name"]: (keys(index["key_schema"]), index["projection"]["ProjectionType"])
        for index in schema["global_secondary_indexes"]
    }
    ttl = model._ttl_attribute()
    assert declared.get("TimeToLiveSpecification") == (
        {"AttributeName": ttl.attr_name, "Enabled": True} if ttl else None
    )
    assert declared["BillingMode"] == model.Meta.billing_mode


CONFIG = json.load(open(os.path.join(PROJECT_DIR, ".chalice", "config.json")))
FUNCTIONS = {
    "api_handler": "APIHandler",
    "export_worker": "ExportWorker",
    "expire-invitations": "ExpireInvitations",
    "expire-exports": "ExpireExports",
    "expire-installations": "ExpireInstallations",
}


def policy_of(function, stage="dev"):
    """The statements of a function's own IAM policy file, as chalice packages it for the stage."""
    name = CONFIG["stages"][stage]["lambda_functions"][function]["iam_policy_file"]
    return json.load(open(os.path.join(PROJECT_DIR, ".chalice", name)))["Statement"]


def statements_with(prefix):
    """(function, statement) for every statement of every function's policy naming an action with the prefix."""
    return [
        (function, statement)
        for function in FUNCTIONS
        for statement in policy_of(function)
        if any(action.startswith(prefix) for action in statement["Action"])
    ]


def test_each_function_of_each_stage_has_a_policy_file_of_its_own_and_active_tracing():
    for stage in ("dev", "prod"):
        settings = CONFIG["stages"][stage]
        assert set(settings["lambda_functions"]) == set(FUNCTIONS) and "iam_policy_file" not in settings
        files = [settings["lambda_functions"][function]["iam_policy_file"] for function in FUNCTIONS]
        assert len(set(files)) == len(FUNCTIONS)
        assert settings["xray"] is True
        assert all(policy_of(function, stage) for function in FUNCTIONS)


def test_the_iam_policies_name_only_the_stages_own_tables():
    tables = statements_with("dynamodb:")
    assert {function for function, _ in tables} == set(FUNCTIONS)
    for function, statement in tables:
        arns = [resource["Fn::Sub"] for resource in statement["Resource"]]
        assert all(
            arn.startswith("arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/keyport-${Stage}-") for arn in arns
        )
        # The API and the worker touch most tables; each hourly job names its own few (and their indexes).
        assert ("table/keyport-${Stage}-*" in arns[0]) == (function in ("api_handler", "export_worker")), function
        assert not any(action in ("dynamodb:*", "dynamodb:Scan") for action in statement["Action"])


def test_the_functions_may_use_the_device_key_only_for_envelopes_and_export_files_in_s3():
    kms = statements_with("kms:")
    assert {function for function, _ in kms} == {"api_handler", "export_worker"}
    for _, statement in kms:
        assert statement["Resource"] == {"Fn::GetAtt": ["DeviceKeysKey", "Arn"]}
        assert set(statement["Action"]) <= {"kms:Decrypt", "kms:GenerateDataKey"}
        if statement["Sid"] == "DeviceKeyEnvelopes":
            assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": "device-keys"}}
        else:
            # S3 names the bucket in the context (bucket key), or else the object: only export files either way.
            assert statement["Sid"] == "ExportFilesAtRest" and statement["Condition"] == {
                "StringLike": {
                    "kms:ViaService": "s3.*.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": [
                        {"Fn::GetAtt": ["ExportBucket", "Arn"]},
                        {"Fn::Sub": "${ExportBucket.Arn}/exports/*"},
                    ],
                }
            }


def test_each_function_writes_logs_only_into_its_own_log_group_named_after_it():
    resources = INFRA["Resources"]
    for function, cfn_name in FUNCTIONS.items():
        logs = [
            statement
            for statement in policy_of(function)
            if any(action.startswith("logs:") for action in statement["Action"])
        ]
        assert logs == [
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": {"Fn::GetAtt": [cfn_name + "LogGroup", "Arn"]},
            }
        ]
        name = resources[cfn_name]["Properties"]["FunctionName"]["Fn::Sub"]
        assert name == f"keyport-${{Stage}}-{function}"
        assert resources[cfn_name + "LogGroup"]["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + name}


def test_log_groups_keep_logs_for_the_days_of_the_parameter_or_the_stages_default():
    allowed = INFRA["Parameters"]["LogRetentionDays"]["AllowedValues"]
    defaults = INFRA["Mappings"]["StageDefaults"]
    assert set(defaults) == set(INFRA["Parameters"]["Stage"]["AllowedValues"])
    assert all(stage["LogRetentionDays"] in allowed for stage in defaults.values())
    assert INFRA["Conditions"]["RetentionOfStage"] == {"Fn::Equals": [{"Ref": "LogRetentionDays"}, 0]}
    for cfn_name in FUNCTIONS.values():
        assert INFRA["Resources"][cfn_name + "LogGroup"]["Properties"]["RetentionInDays"] == {
            "Fn::If": [
                "RetentionOfStage",
                {"Fn::FindInMap": ["StageDefaults", {"Ref": "Stage"}, "LogRetentionDays"]},
                {"Ref": "LogRetentionDays"},
            ]
        }


def test_mail_leaves_only_from_the_sender_identity_and_text_messages_never_reach_a_topic():
    mail = statements_with("ses:")
    assert {function for function, _ in mail} == {"api_handler", "export_worker"}
    for _, statement in mail:
        assert statement["Resource"] == {
            "Fn::Sub": "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"
        }
    sns = statements_with("sns:")
    assert {function for function, _ in sns} == {"api_handler"}  # only an API request sends SMS (split delivery)
    assert sorted((s["Effect"], s["Resource"]) for _, s in sns) == [("Allow", "*"), ("Deny", "arn:aws:sns:*:*:*")]
    assert all(s["Action"] == ["sns:Publish"] for _, s in sns)


def test_only_the_api_reads_the_server_secret_and_no_other_secret():
    secrets = statements_with("secretsmanager:")
    assert [(function, s["Action"], s["Resource"]) for function, s in secrets] == [
        ("api_handler", ["secretsmanager:GetSecretValue"], {"Ref": "ServerSecret"})
    ]


def the_template_takes_the_public_base_url(url):
    return bool(re.fullmatch(INFRA["Parameters"]["PublicBaseUrl"]["AllowedPattern"], url))


def the_cold_start_takes_the_public_base_url(url):
    problems = stage_problems(read_settings({**DEPLOYED, "KEYPORT_PUBLIC_BASE_URL": url}))
    return not [problem for problem in problems if problem.startswith("KEYPORT_PUBLIC_BASE_URL")]


@pytest.mark.parametrize(
    "url",
    [
        "https://keyport.example.com",
        "https://api.example.com/keyport",
        "https://keyport.example.com:8443/x/",
        "https://abc123defg.execute-api.eu-central-1.amazonaws.com/api",
        "https://keyport.invalid",
        "https://Keyport.Example.com.",
    ],
)
def test_a_public_base_url_the_template_takes_the_cold_start_takes_too(url):
    assert the_template_takes_the_public_base_url(url) and the_cold_start_takes_the_public_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://keyport.example.com",
        "ftp://keyport.example.com",
        "https://",
        "https:///keyport",
        "https://localhost",
        "https://LOCALHOST:8443/x",
        "https://localhost.",
        "https://app.localhost",
        "https://keyport.local",
        "https://Keyport.LOCAL./x",
        "https://keyport.local:443",
        "https://127.0.0.1:8000",
        "http://127.0.0.1:8000",
        "https://10.0.0.5",
        "https://192.168.1.20/keyport",
        "https://172.16.0.1",
        "https://169.254.169.254",
        "https://0.0.0.0",
        "https://[::1]",
        "https://[::1]:8000",
        "https://[fd00::1]/x",
        "https://[fe80::1]",
        "https://user@localhost",
        "https://user:pw@10.0.0.5/x",
    ],
)
def test_a_public_base_url_the_cold_start_refuses_the_template_refuses_too(url):
    # Else the deploy succeeds and every function stops at its cold start.
    assert not the_cold_start_takes_the_public_base_url(url)
    assert not the_template_takes_the_public_base_url(url)


@pytest.mark.parametrize("url", ["https://8.8.8.8", "https://[2001:4860:4860::8888]", "https://intranet"])
def test_the_template_takes_a_domain_name_only_where_the_cold_start_would_also_take_a_public_address(url):
    # A regular expression that knew every private range would be long; a mailed link names a domain anyway.
    assert the_cold_start_takes_the_public_base_url(url) and not the_template_takes_the_public_base_url(url)


def test_no_parameter_defaults_to_a_local_address_and_the_stage_settings_have_no_default():
    parameters = INFRA["Parameters"]
    for name in ("PublicBaseUrl", "MailFrom", "SenderIdentity", "AlarmEmail"):
        assert "Default" not in parameters[name], name  # the deployer names them
    for name, parameter in parameters.items():
        assert not re.search(r"localhost|127\.0\.0\.1|keyport\.local", str(parameter.get("Default", ""))), name
    assert re.fullmatch(parameters["MailFrom"]["AllowedPattern"], "keyport <no-reply@example.com>")
    assert re.fullmatch(parameters["MailFrom"]["AllowedPattern"], "no-reply@example.com")
    assert re.fullmatch(parameters["SenderIdentity"]["AllowedPattern"], "example.com")
    assert re.fullmatch(parameters["SenderIdentity"]["AllowedPattern"], "no-reply@example.com")
    assert not re.fullmatch(parameters["SmsSenderId"]["AllowedPattern"], "keyport-sender")


def test_every_function_gets_the_stage_settings_and_the_secrets_arn_but_never_the_secret():
    variables = INFRA["Globals"]["Function"]["Environment"]["Variables"]
    assert variables == {
        "KEYPORT_PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
        "KEYPORT_MAIL_FROM": {"Ref": "MailFrom"},
        "KEYPORT_SMS_SENDER_ID": {"Ref": "SmsSenderId"},
        "KEYPORT_SERVER_SECRET_ARN": {"Ref": "ServerSecret"},
        "KEYPORT_KMS_KEY_ARN": {"Fn::GetAtt": ["DeviceKeysKey", "Arn"]},
        "KEYPORT_EXPORT_QUEUE_URL": {"Ref": "ExportQueue"},
        "KEYPORT_EXPORT_BUCKET": {"Ref": "ExportBucket"},
        "POWERTOOLS_SERVICE_NAME": "keyport",
        "POWERTOOLS_METRICS_NAMESPACE": {"Fn::Sub": "keyport-${Stage}"},
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert "resolve:secretsmanager" not in json.dumps(INFRA)
    for stage in ("dev", "prod"):
        assert CONFIG["stages"][stage]["environment_variables"] == {"KEYPORT_STAGE": stage}


def test_deleting_the_stack_keeps_the_server_secret_the_device_key_and_the_tables_but_a_failed_create_does_not():
    resources = INFRA["Resources"]
    # RetainExceptOnCreate: a first create that rolls back deletes them (their fixed names would otherwise block
    # the next attempt with "already exists"); a stack deleted later, or a replacement, keeps them.
    kept = [
        name
        for name, resource in resources.items()
        if resource.get("DeletionPolicy") == "RetainExceptOnCreate" and resource.get("UpdateReplacePolicy") == "Retain"
    ]
    assert {"ServerSecret", "DeviceKeysKey"} | {
        name for name, resource in resources.items() if resource.get("Type") == "AWS::DynamoDB::Table"
    } == set(kept)
    assert not [name for name, resource in resources.items() if resource.get("DeletionPolicy") == "Retain"]
    assert resources["DeviceKeysKey"]["Properties"]["EnableKeyRotation"] is True


def test_the_retained_key_and_secret_name_their_stage_so_orphans_of_dev_and_prod_can_be_told_apart():
    for name in ("DeviceKeysKey", "ServerSecret"):
        description = INFRA["Resources"][name]["Properties"]["Description"]
        assert description["Fn::Sub"].startswith("keyport-${Stage}: "), name


def test_the_edge_answers_unknown_routes_throttling_and_its_own_errors_in_the_one_error_shape():
    import app  # noqa: F401  (imports every module that declares a domain error)
    from chalicelib.errors import DomainError, domain_errors

    known = {(error.code, error.message): error for error in (DomainError, *domain_errors())}
    responses = INFRA["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    for kind, response in responses.items():
        body = json.loads(response["responseTemplates"]["application/json"])
        error = known[(body["error"]["code"], body["error"]["message"])]  # an error the API itself answers
        assert body == error().to_body(), kind
        # DEFAULT_4XX/5XX keep the status API Gateway chose (400, 413, 502, 504...); the others take the error's.
        assert response.get("statusCode") == (None if kind.startswith("DEFAULT_") else str(status_of(error))), kind
    assert {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"  # API Gateway's 403 for unknown routes
    for kind, response in responses.items():
        assert (response.get("statusCode") == "429") == (
            "gatewayresponse.header.Retry-After" in response["responseParameters"]
        ), kind


def test_every_alarm_notifies_the_alarm_email_and_covers_errors_throttles_dead_letters_and_failed_mail():
    resources = INFRA["Resources"]
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    alarms = {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
    }
    assert all(alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in alarms.values())
    watched = {
        (json.dumps(alarm["Namespace"]), alarm["MetricName"], json.dumps(alarm["Dimensions"]))
        for alarm in alarms.values()
    }
    # The API is named after the stage: dev and prod in one account do not share the 5xx metric.
    assert INFRA["Resources"]["RestAPI"]["Properties"]["Name"] == {"Fn::Sub": "keyport-${Stage}"}
    assert (
        '"AWS/ApiGateway"',
        "5XXError",
        json.dumps([{"Name": "ApiName", "Value": {"Fn::Sub": "keyport-${Stage}"}}, {"Name": "Stage", "Value": "api"}]),
    ) in watched
    for function in ("api_handler", "export_worker"):
        assert (
            '"AWS/Lambda"',
            "Throttles",
            json.dumps([{"Name": "FunctionName", "Value": {"Fn::Sub": f"keyport-${{Stage}}-{function}"}}]),
        ) in watched
    assert (
        '"AWS/SQS"',
        "ApproximateNumberOfMessagesVisible",
        json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ExportDeadLetterQueue", "QueueName"]}}]),
    ) in watched
    assert (
        json.dumps({"Fn::Sub": "keyport-${Stage}"}),
        "MailsFailed",
        json.dumps([{"Name": "service", "Value": "keyport"}]),
    ) in watched


def test_the_stack_outputs_what_the_readme_and_the_cli_use():
    outputs = INFRA["Outputs"]
    assert {
        "ApiUrl",
        "ServerSecretArn",
        "DeviceKeysKeyArn",
        "ExportQueueUrl",
        "ExportBucketName",
        "AlarmTopicArn",
    } <= set(outputs)
    assert outputs["ServerSecretArn"]["Value"] == {"Ref": "ServerSecret"}
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}


def test_the_export_bucket_is_private_kms_encrypted_tls_only_and_forgets_files_after_a_day():
    bucket = INFRA["Resources"]["ExportBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    default = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["DeviceKeysKey", "Arn"]}}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExportFilesLiveOneDay"]["ExpirationInDays"] == 1
    assert rules["ExportFilesLiveOneDay"]["Status"] == "Enabled"
    statements = INFRA["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Sid"]: s["Effect"] for s in statements} == {"TlsOnly": "Deny", "KmsEncryptedUploadsOnly": "Deny"}


def test_the_export_bucket_keeps_no_versions_so_the_stack_can_delete_it_once_emptied():
    # Suspended versioning still leaves a delete marker per delete, and CloudFormation deletes only an empty bucket.
    assert "VersioningConfiguration" not in INFRA["Resources"]["ExportBucket"]["Properties"]


def condition_holds(operator, key, expected, context):
    """IAM's reading of one condition key: a negated operator holds when the key is absent from the request."""
    present, value = key in context, context.get(key)
    expected = expected if isinstance(expected, list) else [expected]
    if operator == "Bool":
        return present and value in expected
    if operator == "Null":
        return (not present) == (expected == ["true"])
    if operator == "StringEquals":
        return present and value in expected
    if operator == "StringNotEquals":
        return not present or value not in expected
    raise AssertionError(f"the test does not know the condition operator {operator}")


def denied_by_bucket_policy(action, context):
    """The Sids of the export bucket policy's Deny statements that match the request."""
    statements = INFRA["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        statement["Sid"]: set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        for statement in statements
    }
    return [
        statement["Sid"]
        for statement in statements
        if statement["Effect"] == "Deny"
        and {action, "s3:*"} & actions[statement["Sid"]]
        and all(
            condition_holds(operator, key, expected, context)
            for operator, keys in statement.get("Condition", {}).items()
            for key, expected in keys.items()
        )
    ]


TLS, KMS = {"aws:SecureTransport": "true"}, {"s3:x-amz-server-side-encryption": "aws:kms"}


@pytest.mark.parametrize(
    "request_name,action,context,denied",
    [
        # upload_file of a file above 8 MB: CreateMultipartUpload carries the header, UploadPart (s3:PutObject) none.
        ("CreateMultipartUpload with SSE-KMS", "s3:PutObject", {**TLS, **KMS}, []),
        ("UploadPart", "s3:PutObject", TLS, []),
        ("PutObject relying on the bucket's default SSE-KMS", "s3:PutObject", TLS, []),
        (
            "PutObject asking for SSE-S3",
            "s3:PutObject",
            {**TLS, "s3:x-amz-server-side-encryption": "AES256"},
            ["KmsEncryptedUploadsOnly"],
        ),
        ("GetObject over plain HTTP", "s3:GetObject", {"aws:SecureTransport": "false"}, ["TlsOnly"]),
        ("PutObject over plain HTTP", "s3:PutObject", {"aws:SecureTransport": "false", **KMS}, ["TlsOnly"]),
    ],
)
def test_the_export_bucket_takes_multipart_uploads_but_no_other_encryption_and_nothing_without_tls(
    request_name, action, context, denied
):
    assert denied_by_bucket_policy(action, context) == denied, request_name


def test_the_export_queue_hands_a_job_failing_three_times_to_its_dead_letter_queue():
    queue = INFRA["Resources"]["ExportQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "keyport-${Stage}-exports"}
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    for stage in ("dev", "prod"):
        # SQS hides a message being worked on for the visibility timeout: at least the worker's timeout.
        worker = CONFIG["stages"][stage]["lambda_functions"]["export_worker"]
        assert queue["VisibilityTimeout"] >= worker["lambda_timeout"]


def packaged(stages, allowed=("dev", "prod")):
    """A small packaged template: a Stage parameter as infra/resources.json declares it, a function per stage named."""
    functions = {
        f"Function{number}": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Environment": {"Variables": {"KEYPORT_STAGE": stage}}},
        }
        for number, stage in enumerate(stages)
    }
    return {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": list(allowed)}},
        "Resources": {**functions, "ExportQueue": {"Type": "AWS::SQS::Queue", "Properties": {}}},
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_packaged_template_takes_only_the_stage_it_was_packaged_for(stage):
    from scripts.add_method_not_allowed import pin_stage

    template = packaged([stage, stage])
    assert pin_stage(template) == stage
    # The functions' KEYPORT_STAGE and the worker's queue ARN come from the packaged stage, the names from Stage:
    # another value would give a prod stack dev's functions reading dev's queue.
    assert template["Parameters"]["Stage"] == {"Type": "String", "Default": stage, "AllowedValues": [stage]}


@pytest.mark.parametrize(
    "stages,allowed,named",
    [
        (["dev", "prod"], ("dev", "prod"), "['dev', 'prod']"),
        ([], ("dev", "prod"), "[]"),
        (["staging"], ("dev", "prod"), "staging"),
    ],
)
def test_a_package_of_no_single_known_stage_is_refused_with_the_stages_named(stages, allowed, named):
    from scripts.add_method_not_allowed import pin_stage

    template = packaged(stages, allowed)
    with pytest.raises(ValueError, match=re.escape(named)):
        pin_stage(template)
    assert template["Parameters"]["Stage"]["AllowedValues"] == list(allowed)  # left as it was
