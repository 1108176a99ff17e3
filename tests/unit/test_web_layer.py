"""chalicelib/web is an entrypoint beside chalicelib/api: it calls services and never reads a model itself."""

import ast
import os

import pytest

from chalicelib.local import PROJECT_DIR

WEB_DIR = os.path.join(PROJECT_DIR, "chalicelib", "web")
MODULES = sorted(name for name in os.listdir(WEB_DIR) if name.endswith(".py"))


def imported(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]


@pytest.mark.parametrize("module", MODULES)
def test_no_web_module_imports_a_model(module):
    names = set(imported(os.path.join(WEB_DIR, module)))
    assert [name for name in names if name == "chalicelib.models" or name.startswith("chalicelib.models.")] == []


def test_the_web_modules_are_found():
    assert {"form_page.py", "render.py", "catalogs.py"} <= set(MODULES)
