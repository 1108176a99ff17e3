"""Give every path of the packaged API an ANY method on the API function, so that a method a path does not
answer reaches Chalice (405 method_not_allowed with Allow, in the one error shape) instead of API Gateway's
403 "Missing Authentication Token" (which the gateway responses turn into 404 route_not_found).

API Gateway prefers a path's own methods over ANY, so the declared routes are untouched.
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
        declared = [name for name in methods if name != ANY and isinstance(methods[name], dict)
                    and "x-amazon-apigateway-integration" in methods[name]]
        if ANY in methods or not declared:
            continue
        methods[ANY] = copy.deepcopy(methods[min(declared)])
        added += 1
    return added


def main(path: str) -> None:
    """Rewrite the template at path."""
    with open(path) as handle:
        template = json.load(handle)
    add_any_methods(template)
    with open(path, "w") as handle:
        json.dump(template, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
