"""infra/ declares exactly the tables, keys, indexes and TTL attributes of the pynamodb models."""
import json
import os

import pytest

from chalicelib import models
from chalicelib.local import PROJECT_DIR

INFRA = json.load(open(os.path.join(PROJECT_DIR, "infra", "resources.json")))
DECLARED = {resource["Properties"]["TableName"]["Fn::Sub"].replace("keyport-${Stage}-", ""): resource["Properties"]
            for resource in INFRA["Resources"].values() if resource["Type"] == "AWS::DynamoDB::Table"}


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


def test_the_lambda_may_use_the_device_key_only_for_device_key_envelopes():
    for stage in ("dev", "prod"):
        policy = json.load(open(os.path.join(PROJECT_DIR, ".chalice", f"policy-{stage}.json")))
        kms = [s for s in policy["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
        assert len(kms) == 1 and sorted(kms[0]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert kms[0]["Condition"]["StringEquals"] == {"kms:EncryptionContext:purpose": "device-keys"}
        assert kms[0]["Condition"]["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": f"alias/keyport-{stage}-device-keys"}
