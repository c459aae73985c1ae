"""The sandboxes are independent of the product (DESIGN.md 1a): no module under sandbox/ imports it.

They follow the platforms' documents, not the clients' code, so that a client's mistake cannot be copied
into the sandbox that is meant to catch it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
PRODUCT = ("resources", "pellacia_assets", "sensors", "schedules")
MODULES = sorted(SANDBOX.rglob("*.py"))


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement names, and every module string given to importlib/__import__."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import could reach outside sandbox/"
            names.append(node.module or "")
        elif isinstance(node, ast.Call):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if called in ("import_module", "__import__") and node.args:
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    names.append(argument.value)
    return names


def test_there_are_sandbox_modules_to_check() -> None:
    assert {path.name for path in MODULES} >= {"common.py", "platforms.py", "x.py", "youtube.py"}


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_sandbox_module_imports_the_product(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    product = [name for name in imported_modules(tree) if name.split(".")[0] in PRODUCT]
    assert product == [], f"{module.name} imports {product}"


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import resources.platforms\n"
        "from pellacia_assets.rendering import probe\n"
        "import importlib\n"
        "importlib.import_module('resources.platforms.limits')\n"
        "__import__('sensors')\n"
        "from sandbox.common import Request\n"
    )
    assert sorted(imported_modules(ast.parse(source))) == [
        "importlib",
        "pellacia_assets.rendering",
        "resources.platforms",
        "resources.platforms.limits",
        "sandbox.common",
        "sensors",
    ]
