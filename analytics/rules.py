"""Association rules on what customers hold: "who holds a mortgage also holds home insurance".

Apriori (mlxtend) finds the product sets held by at least `min_support` of customers; the
rules between them are kept when their confidence (share of antecedent holders who also
hold the consequent) reaches `min_confidence` and their lift (that confidence over the
consequent's base rate) reaches `min_lift`. Lift above 1 is what makes a rule worth a
cross-sell hint: a product everyone holds anyway has high confidence and no lift.
A longer rule must be `min_improvement` more confident than each of its shorter forms, or
it only repeats them. A rule also needs `min_customers` holders of all its products, so
that a small book of customers does not turn two coincidences into a rule. Consequents
are single products by default, since a hint offers one product.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules
from mlxtend.preprocessing import TransactionEncoder
from sklearn.base import BaseEstimator


@dataclass(frozen=True)
class ProductRule:
    """Customers holding every `antecedents` product tend to hold the `consequents` too."""

    antecedents: tuple[str, ...]
    consequents: tuple[str, ...]
    support: float
    confidence: float
    lift: float


class ProductRules(BaseEstimator):
    """Association rules mined from holdings baskets (one set of products per customer)."""

    def __init__(
        self,
        min_support: float = 0.05,
        min_customers: int = 5,
        min_confidence: float = 0.5,
        min_lift: float = 1.2,
        max_len: int = 3,
        max_consequents: int = 1,
        min_improvement: float = 0.05,
    ) -> None:
        self.min_support = min_support
        self.min_customers = min_customers
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.max_len = max_len
        self.max_consequents = max_consequents
        self.min_improvement = min_improvement

    def fit(self, baskets: Iterable[Iterable[str]]) -> ProductRules:
        """Mine `rules_`, strongest lift first (then confidence, then support)."""
        held = [sorted(set(basket)) for basket in baskets]
        held = [basket for basket in held if basket]
        self.baskets_ = len(held)
        self.min_support_ = max(self.min_support, self.min_customers / max(len(held), 1))
        self.rules_: list[ProductRule] = []
        if not held:
            return self
        encoder = TransactionEncoder()
        onehot = pd.DataFrame(encoder.fit(held).transform(held), columns=encoder.columns_)
        frequent = apriori(
            onehot, min_support=self.min_support_, use_colnames=True, max_len=self.max_len
        )
        if len(frequent) < 2:
            return self
        found = association_rules(frequent, metric="confidence", min_threshold=self.min_confidence)
        found = found[
            (found["lift"] >= self.min_lift)
            & (found["consequents"].map(len) <= self.max_consequents)
        ]
        support = dict(zip(frequent["itemsets"], frequent["support"], strict=True))
        found = found[[self._improves(row, support) for row in found.itertuples(index=False)]]
        rules = [
            ProductRule(
                antecedents=tuple(sorted(row.antecedents)),
                consequents=tuple(sorted(row.consequents)),
                support=float(row.support),
                confidence=float(row.confidence),
                lift=float(row.lift),
            )
            for row in found.itertuples(index=False)
        ]
        self.rules_ = sorted(
            rules,
            key=lambda r: (-r.lift, -r.confidence, -r.support, r.antecedents, r.consequents),
        )
        return self

    def _improves(self, rule: Any, support: dict[frozenset, float]) -> bool:
        """Whether the rule is at least `min_improvement` more confident than every rule with
        a smaller antecedent and the same consequent: "current account + mortgage -> home
        insurance" adds nothing when everyone holds a current account."""
        antecedents, consequents = frozenset(rule.antecedents), frozenset(rule.consequents)
        simpler = [
            support[subset | consequents] / support[subset]
            for size in range(1, len(antecedents))
            for subset in map(frozenset, combinations(antecedents, size))
        ]
        return rule.confidence - max(simpler, default=0.0) >= self.min_improvement
