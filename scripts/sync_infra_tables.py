"""Rewrite the DynamoDB tables of infra/resources.json from chalicelib/models/__init__.py (run after changing a model;
tests/unit/test_infra.py fails until you do). Other resources in the file are kept as they are."""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from chalicelib import models  # noqa: E402


def table_resource(model):
    """The CloudFormation table declaring one model: keys, indexes, TTL, billing, backups, encryption."""
    schema = model._get_schema()
    properties = {
        "TableName": {"Fn::Sub": "keyport-${Stage}-" + model.Meta.base_name},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
        "KeySchema": sorted(schema["key_schema"], key=lambda k: k["KeyType"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    indexes = [
        {
            "IndexName": index["index_name"],
            "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"]),
            "Projection": dict(index["projection"]),
        }
        for index in schema["global_secondary_indexes"]
    ]
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    ttl = model._ttl_attribute()
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def main():
    path = os.path.join(ROOT, "infra", "resources.json")
    with open(path) as handle:
        document = json.load(handle)
    tables = {
        "".join(part.capitalize() for part in model.Meta.base_name.split("_")) + "Table": table_resource(model)
        for model in models.ALL_MODELS
    }
    others = {
        name: resource
        for name, resource in document["Resources"].items()
        if resource.get("Type") != "AWS::DynamoDB::Table"
    }
    document["Resources"] = {**tables, **others}
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    print(f"{len(tables)} tables written to {path}")


if __name__ == "__main__":
    main()
