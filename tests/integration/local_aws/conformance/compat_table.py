"""Render the compatibility table (family: supported / differs / missing) from a conformance run.

Run the corpus first (``scripts/test.sh tests/integration/local_aws/conformance``), then::

    .venv/bin/python -m tests.integration.local_aws.conformance.compat_table [results.json] > table.md

The default input is ``test-artifacts/athena-conformance.json``, written at the end of every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.integration.local_aws.conformance.report import RESULTS_PATH, Results, compatibility_table


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS_PATH
    if not path.exists():
        print(f"no results at {path}: run the conformance corpus first", file=sys.stderr)
        return 1
    sys.stdout.write(compatibility_table(Results.load(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
