"""Association rules find a planted rule with its exact support, confidence and lift."""

from __future__ import annotations

import pytest

from analytics.rules import ProductRule, ProductRules


def planted_baskets() -> list[set[str]]:
    """100 customers: 40 hold a mortgage, 32 of them home insurance too (confidence 0.8);
    of the 60 without a mortgage, 6 hold home insurance. Everyone has a current account."""
    baskets = []
    for i in range(100):
        basket = {"current_account"}
        if i < 40:
            basket.add("mortgage")
            if i < 32:
                basket.add("home_insurance")
        elif i < 46:
            basket.add("home_insurance")
        if i % 5 == 0:
            basket.add("savings")
        baskets.append(basket)
    return baskets


def test_the_planted_rule_is_found_with_its_support_confidence_and_lift() -> None:
    rules = ProductRules().fit(planted_baskets()).rules_
    found = {(r.antecedents, r.consequents): r for r in rules}
    rule = found[(("mortgage",), ("home_insurance",))]
    assert rule.support == pytest.approx(0.32)
    assert rule.confidence == pytest.approx(0.8)
    assert rule.lift == pytest.approx(0.8 / 0.38)
    reverse = found[(("home_insurance",), ("mortgage",))]
    assert reverse.confidence == pytest.approx(32 / 38)


def test_rules_without_lift_or_with_several_consequents_are_left_out() -> None:
    rules = ProductRules().fit(planted_baskets()).rules_
    assert all(rule.lift >= 1.2 for rule in rules)
    assert all(len(rule.consequents) == 1 for rule in rules)
    assert not any(rule.consequents == ("current_account",) for rule in rules)
    assert rules == sorted(rules, key=lambda r: -r.lift)


def test_a_longer_rule_that_adds_nothing_to_a_shorter_one_is_left_out() -> None:
    pairs = {(r.antecedents, r.consequents) for r in ProductRules().fit(planted_baskets()).rules_}
    assert (("mortgage",), ("home_insurance",)) in pairs
    assert (("current_account", "mortgage"), ("home_insurance",)) not in pairs
    assert (("mortgage", "savings"), ("home_insurance",)) in pairs
    everything = ProductRules(min_improvement=-1.0).fit(planted_baskets()).rules_
    assert (("current_account", "mortgage"), ("home_insurance",)) in {
        (r.antecedents, r.consequents) for r in everything
    }


def test_thresholds_are_parameters() -> None:
    strict = ProductRules(min_confidence=0.85).fit(planted_baskets()).rules_
    assert strict
    assert all(rule.confidence >= 0.85 for rule in strict)
    assert (("mortgage",), ("home_insurance",)) not in {
        (r.antecedents, r.consequents) for r in strict
    }
    rare = ProductRules(min_support=0.5).fit(planted_baskets()).rules_
    assert rare == []


def test_a_rule_needs_enough_customers_behind_it() -> None:
    pairs = {
        (r.antecedents, r.consequents)
        for r in ProductRules(min_customers=33).fit(planted_baskets()).rules_
    }
    assert (("mortgage",), ("home_insurance",)) not in pairs
    few = planted_baskets()[:20]
    assert ProductRules(min_customers=1).fit(few).min_support_ == pytest.approx(0.05)
    assert ProductRules(min_customers=9).fit(few).min_support_ == pytest.approx(0.45)


def test_empty_or_single_product_baskets_give_no_rules() -> None:
    assert ProductRules().fit([]).rules_ == []
    assert ProductRules().fit([set(), {"savings"}, {"savings"}]).rules_ == []
    model = ProductRules().fit([set(), {"savings"}])
    assert model.baskets_ == 1


def test_rules_are_plain_values() -> None:
    rule = ProductRules().fit(planted_baskets()).rules_[0]
    assert isinstance(rule, ProductRule)
    assert all(isinstance(p, str) for p in rule.antecedents + rule.consequents)
