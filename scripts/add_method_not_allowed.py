"""What `make package` does to the template chalice packaged, in place, after `chalice package`:

- every path of the API gets an ANY method on the API function, so that a method a path does not answer reaches
  Chalice (405 method_not_allowed with Allow, in the one error shape) instead of API Gateway's 403 "Missing
  Authentication Token" (which the gateway responses turn into 404 route_not_found). API Gateway prefers a
  path's own methods over ANY, so the declared routes are untouched;
- the Stage parameter defaults to, and allows only, the stage packaged: chalice writes that stage into the
  functions (KEYPORT_STAGE, the worker's queue ARN), the template's names come from Stage, and the two must agree.

Usage: python scripts/add_method_not_allowed.py out/sam.json (rewrites the template in place).
"""

import copy
import json
import sys

ANY = "x-amazon-apigateway-any-method"


def add_any_methods(template: dict) -> int:
    """Add the ANY method to each path that lacks one (a copy of one of its methods: same Lambda integration and
    path parameters); answer how many paths got one."""
    added = 0
    for methods in template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"].values():
        declared = [
            name
            for name in methods
            if name != ANY and isinstance(methods[name], dict) and "x-amazon-apigateway-integration" in methods[name]
        ]
        if ANY in methods or not declared:
            continue
        methods[ANY] = copy.deepcopy(methods[min(declared)])
        added += 1
    return added


def pin_stage(template: dict) -> str:
    """Let the Stage parameter take only the stage the functions were packaged for (their KEYPORT_STAGE); answer it.
    Raise ValueError, leaving the template as it was, unless the functions name one stage that Stage allows."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    stages = sorted(
        {
            resource["Properties"]
            .get("Environment", {})
            .get("Variables", {})
            .get("KEYPORT_STAGE", shared.get("KEYPORT_STAGE"))
            or ""
            for resource in template["Resources"].values()
            if resource.get("Type") == "AWS::Serverless::Function"
        }
    )
    if len(stages) != 1 or not stages[0]:
        raise ValueError(f"the functions' KEYPORT_STAGE should name one stage, they name {stages}")
    stage, parameter = stages[0], template["Parameters"]["Stage"]
    if stage not in parameter["AllowedValues"]:
        # The stage's log retention (Mappings StageDefaults) and the IAM policies are declared per stage.
        raise ValueError(
            f"stage {stage} is packaged, but infra/resources.json's Stage allows only "
            f"{parameter['AllowedValues']}: add it there and to Mappings StageDefaults"
        )
    parameter["Default"], parameter["AllowedValues"] = stage, [stage]
    return stage


def main(path: str) -> None:
    """Rewrite the template at path."""
    with open(path) as handle:
        template = json.load(handle)
    try:
        pin_stage(template)
    except ValueError as error:
        sys.exit(f"{path}: {error}")
    add_any_methods(template)
    with open(path, "w") as handle:
        json.dump(template, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
