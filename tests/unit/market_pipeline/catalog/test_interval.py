"""The interval's partitions as a SQL predicate: exact partitions, injection-proof."""

from __future__ import annotations

import pytest

from market_pipeline.catalog.interval import partition_predicate


def test_partition_predicate_selects_exact_partitions():
    sql = partition_predicate([("2026-11-25", "10"), ("2026-11-25", "09"), ("2026-11-25", "10")])
    assert sql == "(dt = '2026-11-25' AND \"hour\" = '09') OR (dt = '2026-11-25' AND \"hour\" = '10')"
    assert partition_predicate([]) == "1 = 0"


@pytest.mark.parametrize("bad", [("2026-11-25' OR 1=1 --", "10"), ("2026-11-25", "24"), ("2026-11-25", "1")])
def test_partition_predicate_rejects_injection_and_bad_values(bad):
    with pytest.raises(ValueError):
        partition_predicate([bad])
