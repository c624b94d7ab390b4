"""The cleaning job: fix invalid and inconsistent customer values, then merge duplicates.

Fixes come first, so the duplicate search compares clean values; both leave a trace
(`customer_fixes`, `customer_merges`). A second run finds nothing left to change.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from analytics.dedupe import COLUMNS, DuplicateFinder, fixes
from bot.crm.store import Conflict
from bot.jobs.base import JobContext, JobResult

MERGES_SHOWN = 100
"""The run's figures list this many merges; `customer_merges` has them all."""


class CleaningJob:
    name = "cleaning"
    description = (
        "Fix invalid and badly formatted customer values and merge duplicate customers, "
        "keeping every reference and a trace of both."
    )

    def run(self, context: JobContext) -> JobResult:
        store = context.store.cleaning
        found = fixes(pd.DataFrame(store.customers(), columns=list(COLUMNS)))
        fixed = store.apply_fixes(found, context.run_id)
        customers = pd.DataFrame(store.customers(), columns=list(COLUMNS))
        finder = DuplicateFinder().fit(customers)
        duplicates = finder.duplicates()
        moved: Counter[str] = Counter()
        merges = []
        skipped = 0
        for kept_id, merged_id, score, matched_on in context.progress(
            duplicates, total=len(duplicates), desc="merging duplicates", unit="customer"
        ):
            try:
                result = store.merge(kept_id, merged_id, score, matched_on, context.run_id)
            except Conflict:  # changed since it was read (merged or erased): next run decides
                skipped += 1
                continue
            if result is not None:
                moved.update(result)
                merges.append(
                    {
                        "kept_id": kept_id,
                        "merged_id": merged_id,
                        "score": score,
                        "matched_on": matched_on,
                    }
                )
        return JobResult(
            rows={"customers": len(customers), "fixed": sum(fixed.values()), "merged": len(merges)},
            figures={
                "merged": len(merges),
                "fixed_by_rule": fixed,
                "missing_by_field": store.missing(),
                "candidates": len(finder.candidates_),
                "moved": dict(moved),
                "skipped": skipped,
                "merges": merges[:MERGES_SHOWN],
            },
        )
