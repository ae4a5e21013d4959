"""CPU per audit append (core/audit.py): one event, and three at once (a login of a person in
three organisations), in a fresh SQLite (or PostgreSQL) database. Process CPU time, so other load
on the machine matters less than for wall time. Not a test; docs/benchmarks.md has the figures.

    DEBUG=1 .venv/bin/python bench/audit_append.py [--appends N] [--rounds N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="zs-audit-bench-")
    os.environ["DATABASE_URL"] = options.database_url or f"sqlite:///{work}/portal.sqlite3"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from zorgsleutel.core import audit
    from zorgsleutel.core.models import AuditEvent

    call_command("migrate", verbosity=0)
    organisations = [f"organisation:bench-{n}" for n in range(3)]
    results = {}
    for label, width in (("1 event", 1), ("3 events", 3)):
        per_append = []
        for _round in range(options.rounds):
            started = time.process_time()
            for _ in range(options.appends):
                with transaction.atomic():
                    audit._append(
                        organisations[:width],
                        "login.succeeded",
                        "user:x",
                        "user:x",
                        audit.SUCCESS,
                        {"acr": "low"},
                    )
            per_append.append((time.process_time() - started) / options.appends * 1e6)
        results[label] = statistics.median(per_append)
        print(
            f"{label}: {results[label]:.0f} µs CPU per append (median of {options.rounds}: "
            + ", ".join(f"{v:.0f}" for v in per_append)
            + ")"
        )
    print(f"events written: {AuditEvent.objects.count()}; chain ok: {audit.verify_chain().ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
