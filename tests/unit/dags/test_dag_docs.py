"""The DAG files share one dialect and their docs state nothing that can drift from the code."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support import ROOT

DAG_FILES = sorted((ROOT / "dags").glob("*.py"))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_the_module_docstring_is_the_dag_doc(path, dagbag):
    tree = ast.parse(path.read_text())
    docstring = ast.get_docstring(tree, clean=False)
    assert docstring and docstring.strip().startswith("# Stock market: "), "doc_md comes from the module docstring"
    (dag,) = [d for d in dagbag.dags.values() if d.fileloc == str(path)]
    assert dag.doc_md == docstring
    assert "DOC" not in {
        t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_hooks_and_library_logic_are_imported_inside_tasks(path):
    """Top-level imports are what wiring needs (operators, the SDK, settings, the registry), not hooks."""
    top = [n for n in ast.parse(path.read_text()).body if isinstance(n, ast.Import | ast.ImportFrom)]
    modules = [n.module if isinstance(n, ast.ImportFrom) else n.names[0].name for n in top]
    heavy = [m for m in modules if m and (".hooks." in m or m.startswith(("market_pipeline.ingest", "simulator")))]
    assert heavy == []


def test_no_doc_hard_codes_a_schedule_or_a_compression_the_code_decides(dagbag):
    from simulator.producer import PRODUCER_DEFAULTS

    for dag in dagbag.dags.values():
        assert not re.search(r"\*/\d+ \* \* \* \*", dag.doc_md), f"{dag.dag_id}: the interval is a setting"
    setup = dagbag.dags["stock_market_setup"]
    assert f"the simulator sends {PRODUCER_DEFAULTS['compression.type']}" in setup.doc_md
    for codec in ("lz4", "snappy", "gzip"):
        assert f"simulator sends {codec}" not in setup.doc_md
