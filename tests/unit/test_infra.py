"""infra/ declares exactly the tables, keys, indexes and TTL attributes of the pynamodb models."""
import json
import os

import pytest

from chalicelib import models
from chalicelib.local import PROJECT_DIR

INFRA = json.load(open(os.path.join(PROJECT_DIR, "infra", "resources.json")))
DECLARED = {resource["Properties"]["TableName"]["Fn::Sub"].replace("keyport-${Stage}-", ""): resource["Properties"]
            for resource in INFRA["Resources"].values() if resource.get("Type") == "AWS::DynamoDB::Table"}


def keys(schema):
    return sorted((key["AttributeName"], key["KeyType"]) for key in schema)


def test_infra_declares_one_table_per_model():
    assert set(DECLARED) == {model.Meta.base_name for model in models.ALL_MODELS}


@pytest.mark.parametrize("model", models.ALL_MODELS, ids=lambda model: model.Meta.base_name)
def test_keys_indexes_and_ttl_match_the_model(model):
    declared, schema = DECLARED[model.Meta.base_name], model._get_schema()
    assert keys(declared["KeySchema"]) == keys(schema["key_schema"])
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in declared["AttributeDefinitions"]) == sorted(
        (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"])
    assert {index["IndexName"]: (keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in declared.get("GlobalSecondaryIndexes", [])} == {
        index["index_name"]: (keys(index["key_schema"]), index["projection"]["ProjectionType"])
        for index in schema["global_secondary_indexes"]}
    ttl = model._ttl_attribute()
    assert declared.get("TimeToLiveSpecification") == (
        {"AttributeName": ttl.attr_name, "Enabled": True} if ttl else None)
    assert declared["BillingMode"] == model.Meta.billing_mode


def test_the_iam_policies_name_only_their_own_stage_tables():
    for stage in ("dev", "prod"):
        policy = json.load(open(os.path.join(PROJECT_DIR, ".chalice", f"policy-{stage}.json")))
        tables = next(s for s in policy["Statement"] if s["Sid"] == "Tables")
        assert all(f"table/keyport-{stage}-" in arn for arn in tables["Resource"])
        assert not any(action in ("dynamodb:*", "dynamodb:Scan") for action in tables["Action"])


def test_the_lambda_may_use_the_device_key_only_for_envelopes_and_export_files_in_s3():
    for stage in ("dev", "prod"):
        policy = json.load(open(os.path.join(PROJECT_DIR, ".chalice", f"policy-{stage}.json")))
        kms = {s["Sid"]: s for s in policy["Statement"] if any(a.startswith("kms:") for a in s["Action"])}
        assert set(kms) == {"DeviceKeyEnvelopes", "ExportFilesAtRest"}
        for statement in kms.values():
            assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
            assert statement["Condition"]["ForAnyValue:StringEquals"] == {
                "kms:ResourceAliases": f"alias/keyport-{stage}-device-keys"}
        assert kms["DeviceKeyEnvelopes"]["Condition"]["StringEquals"] == {"kms:EncryptionContext:purpose": "device-keys"}
        assert kms["ExportFilesAtRest"]["Condition"]["StringLike"] == {
            "kms:ViaService": "s3.*.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::keyport-{stage}-exports-*"}


def test_the_export_bucket_is_private_kms_encrypted_tls_only_and_forgets_files_after_a_day():
    bucket = INFRA["Resources"]["ExportBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    default = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["DeviceKeysKey", "Arn"]}}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExportFilesLiveOneDay"]["ExpirationInDays"] == 1 and rules["ExportFilesLiveOneDay"]["Status"] == "Enabled"
    statements = INFRA["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Sid"]: s["Effect"] for s in statements} == {"TlsOnly": "Deny", "KmsEncryptedUploadsOnly": "Deny"}


def test_the_export_queue_hands_a_job_failing_three_times_to_its_dead_letter_queue():
    queue = INFRA["Resources"]["ExportQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "keyport-${Stage}-exports"}
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": 3}
    config = json.load(open(os.path.join(PROJECT_DIR, ".chalice", "config.json")))
    for stage in ("dev", "prod"):
        # SQS hides a message being worked on for the visibility timeout: at least the worker's timeout.
        assert queue["VisibilityTimeout"] >= config["stages"][stage]["lambda_functions"]["export_worker"]["lambda_timeout"]
