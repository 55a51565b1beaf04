"""The local stand-ins (tools/: local_aws, devstack) and the product stay apart.

The product (include/, dags/, plugins/) runs against real AWS in production; the stand-ins are
development tools. So neither side imports the other, and the product's wheel and its runtime
dependency closure (uv.lock without the dev group) carry no moto, DuckDB or sqlglot. Imports are
read with ``ast`` (not grep), including ``importlib.import_module("...")`` calls; each checker is
also run on planted violations, so these tests fail when the thing they guard breaks.
"""

from __future__ import annotations

import ast
import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

PRODUCT_PACKAGES = frozenset({"market_pipeline", "market_ui", "simulator", "pipeline_airflow"})
TOOL_PACKAGES = frozenset({"local_aws", "devstack"})
DEV_ONLY_DISTRIBUTIONS = frozenset({"moto", "duckdb", "sqlglot", "stock-market-devtools"})
PRODUCT_DISTRIBUTION = "stock-market-pipeline"


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (statements anywhere, and import_module("...") calls)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def forbidden_imports(files: list[Path], forbidden: frozenset[str]) -> list[str]:
    """``file: module`` for every import of a forbidden top-level package."""
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in forbidden
    ]


def tool_files() -> list[Path]:
    return python_files(ROOT / "tools" / "local_aws", ROOT / "tools" / "devstack")


def product_files() -> list[Path]:
    return python_files(ROOT / "include", ROOT / "dags", ROOT / "plugins")


def test_the_scans_read_the_real_trees() -> None:
    tools = {p.relative_to(ROOT).as_posix() for p in tool_files()}
    product = {p.relative_to(ROOT).as_posix() for p in product_files()}
    assert {"tools/local_aws/server.py", "tools/devstack/config.py", "tools/local_aws/athena/engine/query.py"} <= tools
    assert {"dags/stock_market_ingest.py", "plugins/market_pipeline_plugin.py"} <= product
    assert any(path.startswith("include/market_pipeline/") for path in product)
    assert not any(path.startswith(("include/local_aws", "include/devstack")) for path in product)


def test_the_import_scan_catches_planted_imports(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from __future__ import annotations\n"
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from market_pipeline.layout import raw_key\n"
        "def later():\n"
        "    import local_aws.server\n"
        "    return importlib.import_module('devstack.config')\n"
    )
    assert forbidden_imports([planted], PRODUCT_PACKAGES) == [f"{planted}: market_pipeline.layout"]
    assert forbidden_imports([planted], TOOL_PACKAGES) == [
        f"{planted}: devstack.config",
        f"{planted}: local_aws.server",
    ]


def test_local_stand_ins_import_nothing_of_the_product() -> None:
    assert forbidden_imports(tool_files(), PRODUCT_PACKAGES) == []


def test_the_product_imports_no_local_stand_in() -> None:
    assert forbidden_imports(product_files(), TOOL_PACKAGES) == []


# ------------------------------------------------------------------------------ dependencies


def requirement_name(requirement: str) -> str:
    """``moto[server]==5.2.5`` -> ``moto`` (normalised as in uv.lock)."""
    name = requirement.split(";")[0]
    for stop in "[<>=!~ ":
        name = name.split(stop)[0]
    return name.strip().lower().replace("_", "-").replace(".", "-")


def runtime_closure(lock: dict, distribution: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every package a distribution needs at run time per uv.lock: its dependencies and the given
    extras, followed through each package's own dependencies and requested extras (markers are
    ignored, which can only over-approximate); dependency groups (dev) are not followed."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[tuple[str, str | None]] = set()
    todo: list[tuple[str, str | None]] = [(distribution, None), *((distribution, e) for e in extras)]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        package = packages[name]
        deps = package.get("dependencies", []) if extra is None else package.get("optional-dependencies", {})[extra]
        for dep in deps:
            todo.append((dep["name"], None))
            todo.extend((dep["name"], e) for e in dep.get("extra", []))
    return {name for name, _ in seen} - {distribution}


@pytest.fixture(scope="module")
def lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def test_product_runtime_dependencies_carry_no_local_stand_in(lock: dict) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {requirement_name(r) for r in project["dependencies"]}
    declared |= {requirement_name(r) for extra in project.get("optional-dependencies", {}).values() for r in extra}
    assert not declared & DEV_ONLY_DISTRIBUTIONS, declared & DEV_ONLY_DISTRIBUTIONS

    extras = tuple(project.get("optional-dependencies", {}))
    closure = runtime_closure(lock, PRODUCT_DISTRIBUTION, extras)
    # the closure is the real one: Airflow's and the providers' (PyAthena, which AthenaSQLHook needs)
    assert {"apache-airflow", "apache-airflow-providers-amazon", "pyathena", "boto3", "sqlalchemy"} <= closure
    assert not closure & DEV_ONLY_DISTRIBUTIONS, sorted(closure & DEV_ONLY_DISTRIBUTIONS)


def test_the_closure_finds_what_the_tools_need(lock: dict) -> None:
    """The same walk over the devtools package does reach moto, DuckDB and sqlglot."""
    closure = runtime_closure(lock, "stock-market-devtools")
    assert {"moto", "duckdb", "sqlglot", "werkzeug"} <= closure


def test_dev_group_installs_the_tools(lock: dict) -> None:
    """`make install` (uv sync with the dev group) is what brings the stand-ins in."""
    root = next(p for p in lock["package"] if p["name"] == PRODUCT_DISTRIBUTION)
    dev = {d["name"] for d in root.get("dev-dependencies", {}).get("dev", [])}
    assert "stock-market-devtools" in dev


def test_product_wheel_carries_no_local_stand_in(tmp_path: Path) -> None:
    """Build the product wheel (setuptools, as `uv build` would) from a copy of the sources."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "include", src / "include", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "dist"
    script = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)], cwd=src, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    wheel = out / done.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_string(archive.read(metadata_name).decode())
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert "market_pipeline" in top_level
    assert not top_level & TOOL_PACKAGES, top_level
    requires = {requirement_name(r) for r in metadata.get_all("Requires-Dist") or []}
    assert "apache-airflow" in requires
    assert not requires & DEV_ONLY_DISTRIBUTIONS, requires & DEV_ONLY_DISTRIBUTIONS
