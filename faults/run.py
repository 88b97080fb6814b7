"""`make faults`: run the fault scenarios on private servers and print the table.

``python -m faults.run [--only NAME ...] [--quick]``; exits non-zero if any requirement is not
met. Each scenario starts its own PostgreSQL, Redis and gunicorn, never the machine's.
"""

from __future__ import annotations

import argparse
import sys
import time

from faults.report import Row, table
from faults.scenarios import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="the CI tests' shorter runs")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in args.only or SCENARIOS:
        started = time.monotonic()
        print(f"faults: {name} ...", file=sys.stderr, flush=True)
        row = SCENARIOS[name](args.quick)
        print(
            f"faults: {name}: {'ok' if row.ok else 'NOT MET'} ({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
    print(table(rows))
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
