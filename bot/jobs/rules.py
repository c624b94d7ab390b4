"""The rules job: association rules on what active customers hold, kept per run."""

from __future__ import annotations

from datetime import datetime, timezone

from analytics.rules import ProductRules
from bot.crm.store.insights import RULES_JOB
from bot.jobs.base import JobContext, JobResult

SHOWN = 10
"""Rules listed in the run's figures; every rule is stored."""


class RulesJob:
    name = RULES_JOB
    description = (
        "Mine which products customers hold together (support, confidence, lift): the "
        "cross-sell hints agents see."
    )

    def __init__(self, today: datetime | None = None) -> None:
        self.today = today

    def run(self, context: JobContext) -> JobResult:
        today = self.today or datetime.now(timezone.utc)
        baskets = context.store.insights.baskets(today)
        model = ProductRules().fit(baskets.values())
        rules = [
            {
                "antecedents": list(rule.antecedents),
                "consequents": list(rule.consequents),
                "support": rule.support,
                "confidence": rule.confidence,
                "lift": rule.lift,
            }
            for rule in model.rules_
        ]
        saved = context.store.insights.save_rules(context.run_id, rules)
        return JobResult(
            rows={"customers": len(baskets), "rules": saved},
            figures={
                "as_of": today.isoformat(),
                "min_support": round(model.min_support_, 4),
                "min_confidence": model.min_confidence,
                "min_lift": model.min_lift,
                "top_rules": [
                    {
                        "rule": f"{' + '.join(r['antecedents'])} -> {' + '.join(r['consequents'])}",
                        **{k: round(r[k], 4) for k in ("support", "confidence", "lift")},
                    }
                    for r in rules[:SHOWN]
                ],
            },
        )
