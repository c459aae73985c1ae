"""The layers of docs/architecture.md, enforced: imports run one way, and pure code never loads Dagster.

Every module of the product belongs to exactly one layer; a module may import its own layer and the
layers listed under it in ALLOWED, nothing else (function-level imports included). The sandboxes
import nothing of the product, so they can disagree with it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pellacia_assets", "resources", "sensors", "schedules", "sandbox")

# Layer of a module: the first rule whose predicate holds, in this order.
PURE, RESOURCE, DAGSTER, INTERFACE, SANDBOX = "pure", "resource", "dagster", "interface", "sandbox"
ALLOWED: dict[str, set[str]] = {
    PURE: {PURE},
    RESOURCE: {PURE, RESOURCE},
    DAGSTER: {PURE, RESOURCE, DAGSTER},
    INTERFACE: {PURE, RESOURCE, DAGSTER, INTERFACE, SANDBOX},
    SANDBOX: {SANDBOX},
}
DAGSTER_MODULES: tuple[str, ...] = ("pellacia_assets.assets", "pellacia_assets.definitions")
DAGSTER_MODULES += ("pellacia_assets.jobs", "pellacia_assets.partitions", "sensors", "schedules")
DAGSTER_MODULES += ("pellacia_assets.observability.dagster_logging",)
INTERFACE_MODULES = ("pellacia_assets.cli", "pellacia_assets.api")


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "sandbox":
        return SANDBOX
    if any(module == prefix or module.startswith(prefix + ".") for prefix in INTERFACE_MODULES):
        return INTERFACE
    if any(module == prefix or module.startswith(prefix + ".") for prefix in DAGSTER_MODULES):
        return DAGSTER
    if parts[0] == "resources" and parts[-1] == "resource":
        return RESOURCE
    return PURE


def product_modules() -> list[str]:
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue  # Alembic loads these by path, never by import
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules.append(".".join(parts))
    return modules


MODULES = product_modules()
PURE_MODULES = [module for module in MODULES if layer_of(module) == PURE]


def module_path(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imported_product_modules(module: str) -> set[str]:
    """Every product module `module` imports, anywhere in its body, resolved to the longest known name."""
    tree = ast.parse(module_path(module).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = set(MODULES)
    return {name for name in names if name in known}


def test_every_layer_is_populated() -> None:
    assert {layer_of(module) for module in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("module", MODULES)
def test_imports_run_one_way(module: str) -> None:
    layer = layer_of(module)
    wrong = {
        imported: layer_of(imported)
        for imported in imported_product_modules(module)
        if layer_of(imported) not in ALLOWED[layer]
    }
    assert not wrong, f"{module} ({layer}) may not import {wrong}"


def test_the_resources_live_in_resource_modules() -> None:
    """A ConfigurableResource is defined only in a `resource.py`, beside the code it wraps."""
    outside = [
        module
        for module in MODULES
        if layer_of(module) != RESOURCE and "ConfigurableResource)" in module_path(module).read_text()
    ]
    assert outside == []


def test_pure_modules_do_not_load_dagster() -> None:
    """The pure modules imported in a fresh interpreter leave `dagster` out of sys.modules. All of them at
    once first (what one leaves out, each leaves out); when dagster is loaded, each alone, to name it."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]: importlib.import_module(name)\n"
        "sys.exit(3 if 'dagster' in sys.modules else 0)\n"
    )

    def run(*modules: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-c", script, *modules]
        return subprocess.run(command, cwd=ROOT, capture_output=True, timeout=300, check=False)

    together = run(*PURE_MODULES)
    assert together.returncode in (0, 3), together.stderr.decode(errors="replace")[-2000:]
    if together.returncode == 0:
        return
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(PURE_MODULES, pool.map(run, PURE_MODULES), strict=True))
    loaded = [module for module, result in results.items() if result.returncode == 3]
    assert loaded == [], f"these pure modules load dagster: {loaded}"
