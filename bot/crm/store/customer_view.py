"""A customer as the batch jobs left them: segment, strategy, risk, channel, holdings, hints.

One read for everything an agent acts on, so the console's customer page and the handoff
packet show the same thing. Cross-sell hints come from the latest rules run only, and are
withheld where `analytics.thresholds.selling_withheld` says so (the customer or their segment
at risk, or complaining): selling to them would cost trust.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from analytics.thresholds import AT_RISK_SCORE, selling_withheld
from bot.crm.models import CustomerInsight, ProductHolding, ProductRule, Segment
from bot.crm.store.base import StoreBase, iso
from bot.crm.store.insights import latest_rules_run
from bot.crm.store.records import (
    ChannelView,
    CrossSell,
    CrossSellHint,
    CustomerView,
    HoldingView,
    RiskView,
    SegmentView,
    StrategyView,
)
from bot.crm.store.segments import current_segment
from bot.crm.store.strategies import ServingStrategy, StrategyStore, segment_traits

MAX_HINTS = 3
"""What an agent can raise in one conversation; Salesforce's Next Best Action defaults to 3."""


class CustomerViewStore(StoreBase):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._strategies = StrategyStore(engine)

    def view(self, customer_id: int, complaining: bool = False) -> CustomerView:
        """The view of a customer in use (`CustomerStore.profile` resolves a merged id first);
        `complaining`, read from the conversation by the caller, withholds the hints."""
        strategy = self._strategies.for_customer(customer_id)
        with self._session() as session:
            insight = session.get(CustomerInsight, customer_id)
            holdings = _holdings(session, customer_id)
            segment = current_segment(session, customer_id)
            withheld = selling_withheld(
                segment_traits(segment.profile) if segment is not None else (),
                insight.risk if insight is not None else None,
                complaining,
            )
            return {
                "segment": _segment(segment),
                "strategy": strategy_view(strategy),
                "risk": _risk(insight),
                "preferred_channel": _channel(insight),
                "holdings": holdings,
                "cross_sell": _cross_sell(session, holdings, withheld),
            }


def strategy_view(serving: ServingStrategy) -> StrategyView:
    fields = serving.strategy.as_fields()
    return {
        "tone": fields["tone"],
        "greeting": fields["greeting"],
        "offers": fields["offers"],
        "priority": fields["priority"],
        "handoff_threshold": fields["handoff_threshold"],
        "sla_minutes": fields["sla_minutes"],
        "default": serving.is_default,
    }


def _segment(segment: Segment | None) -> SegmentView | None:
    if segment is None:
        return None
    return {"id": segment.id, "name": segment.name, "description": segment.description}


def _risk(insight: CustomerInsight | None) -> RiskView | None:
    if insight is None or insight.risk is None:
        return None
    return {
        "score": insight.risk,
        "drivers": list(insight.risk_drivers or []),
        "at_risk": insight.risk >= AT_RISK_SCORE,
    }


def _channel(insight: CustomerInsight | None) -> ChannelView | None:
    if insight is None or insight.preferred_channel is None:
        return None
    return {"channel": insight.preferred_channel, "confidence": insight.channel_confidence}


def _holdings(session: Session, customer_id: int) -> list[HoldingView]:
    rows = session.execute(
        select(ProductHolding.product, ProductHolding.opened_at)
        .where(ProductHolding.customer_id == customer_id, ProductHolding.closed_at.is_(None))
        .order_by(ProductHolding.opened_at, ProductHolding.id)
    )
    return [{"product": product, "opened_at": iso(opened_at)} for product, opened_at in rows]


def _cross_sell(session: Session, holdings: list[HoldingView], withheld: str | None) -> CrossSell:
    if withheld is not None:
        return {"hints": [], "withheld": withheld}
    held = {holding["product"] for holding in holdings}
    return {"hints": hints(_latest_rules(session), held), "withheld": None}


def _latest_rules(session: Session) -> list[ProductRule]:
    latest = latest_rules_run(session)
    return list(session.scalars(select(ProductRule).where(ProductRule.run_id == latest)))


def hints(rules: list[ProductRule], held: set[str]) -> list[CrossSellHint]:
    """The best rule per product the customer lacks, among rules whose antecedents they hold.

    One hint per product, the strongest by lift (then confidence), so three hints are three
    different things to offer.
    """
    best: dict[str, CrossSellHint] = {}
    for rule in rules:
        if not set(rule.antecedents) <= held:
            continue
        for product in set(rule.consequents) - held:
            hint: CrossSellHint = {
                "product": product,
                "because": sorted(rule.antecedents),
                "confidence": rule.confidence,
                "lift": rule.lift,
            }
            current = best.get(product)
            if current is None or _strength(hint) > _strength(current):
                best[product] = hint
    ranked = sorted(
        best.values(), key=lambda hint: (-hint["lift"], -hint["confidence"], hint["product"])
    )
    return ranked[:MAX_HINTS]


def _strength(hint: CrossSellHint) -> tuple[float, float]:
    return hint["lift"], hint["confidence"]
