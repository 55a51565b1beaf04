"""The tree's rules, checked on the source: who may import Airflow, and who may build an S3 prefix.

- market_pipeline (the product library) imports no Airflow, no UI and no Airflow glue, so every
  function runs and is tested with plain clients; market_ui imports no Airflow either;
- pipeline_airflow is the only product package under include/ that imports Airflow (besides the DAG
  files and the plugin, which are Airflow's by definition);
- no product package imports the development stand-ins (local_aws, devstack);
- layout.py is the only module that spells an S3 prefix: any other string with one fails here, so a new
  prefix or a renamed one is one change in layout.py.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

INCLUDE = ROOT / "include"
PRODUCT = ("market_pipeline", "pipeline_airflow", "market_ui", "simulator")
DEV_TOOLS = ("local_aws", "devstack")


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement in the file names (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def importers(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    offenders = {}
    for path in python_files(INCLUDE / package):
        bad = sorted(m for m in imported_modules(path) if m.split(".")[0] in forbidden)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    return offenders


def test_the_product_library_imports_no_airflow_no_ui_and_no_glue():
    assert importers("market_pipeline", ("airflow", "market_ui", "pipeline_airflow", "fastapi", *DEV_TOOLS)) == {}


def test_the_ui_imports_no_airflow():
    assert importers("market_ui", ("airflow", "pipeline_airflow", *DEV_TOOLS)) == {}


def test_pipeline_airflow_is_the_only_product_package_importing_airflow():
    airflow_users = {
        package
        for package in PRODUCT
        for path in python_files(INCLUDE / package)
        if any(m.split(".")[0] == "airflow" for m in imported_modules(path))
    }
    assert airflow_users == {"pipeline_airflow"}


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_package_imports_the_development_tools(package):
    assert importers(package, DEV_TOOLS) == {}


def test_importing_every_library_module_loads_no_airflow():
    """The same rule at run time: nothing reaches Airflow indirectly (through a third package)."""
    modules = sorted(
        ".".join(p.relative_to(INCLUDE).with_suffix("").parts).removesuffix(".__init__")
        for p in python_files(INCLUDE / "market_pipeline", INCLUDE / "market_ui")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'pipeline_airflow', 'local_aws', 'devstack'))\n"
        "assert not leaked, leaked[:10]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


# --- the S3 layout has one owner ---------------------------------------------------------------------

LAYOUT = INCLUDE / "market_pipeline" / "layout.py"
PREFIX = re.compile(r"(?<![\w.-])(raw|dlq|_manifests|_attempts|_reports|curated)/|athena-results")


def code_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in the code, docstrings left out (they explain, not build)."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def prefix_literals(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path.suffix == ".py":
            strings = code_strings(path)
        else:  # SQL templates: code lines, not comments
            strings = [
                (n, line)
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if not line.lstrip().startswith("--")
            ]
        found += [f"{_shown(path)}:{line}: {text!r}" for line, text in strings if PREFIX.search(text)]
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def product_sources() -> list[Path]:
    paths = python_files(*(INCLUDE / p for p in PRODUCT), ROOT / "dags", ROOT / "plugins")
    return [p for p in paths if p != LAYOUT] + sorted((INCLUDE / "market_pipeline").rglob("*.sql"))


def test_layout_is_the_only_module_that_spells_an_s3_prefix():
    assert prefix_literals(product_sources()) == []


def test_the_prefix_scan_finds_what_it_looks_for(tmp_path):
    """The scan itself: prefixes in code strings and f-strings are found, prose in docstrings is not."""
    module = tmp_path / "stray.py"
    module.write_text(
        '"""Writes under raw/ (prose)."""\n'
        "def key(table, bucket):\n"
        '    """dlq/ in a docstring"""\n'
        '    return f"raw/{table}/", "_reports/" + table, "s3://" + bucket + "/athena-results/", "draw/"\n'
    )
    sql = tmp_path / "stray.sql"
    sql.write_text("-- reads curated/ (a comment)\nSELECT 1 FROM t WHERE k LIKE '_manifests/%'\n")
    found = prefix_literals([module, sql])
    assert len(found) == 4, found
    assert [f.split(":")[1] for f in found] == ["4", "4", "4", "2"]
