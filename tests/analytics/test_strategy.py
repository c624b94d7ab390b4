"""Default strategies from segment traits, and the checks a supervisor's edit goes through."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.handoff_rules import STRONG_FRUSTRATION
from analytics.strategy import (
    DEFAULT_HANDOFF_THRESHOLD,
    DEFAULT_STRATEGY,
    FIELDS,
    FIRST_SIGN_OF_FRUSTRATION,
    OFFER_WORDING,
    InvalidStrategy,
    check_fields,
    default_strategy,
    strategy_of,
)
from bot.crm.enums import SegmentTrait, Tone

T = SegmentTrait


def test_the_default_threshold_is_the_handoff_rules_strong_frustration() -> None:
    assert DEFAULT_HANDOFF_THRESHOLD == STRONG_FRUSTRATION == DEFAULT_STRATEGY.handoff_threshold


def test_high_value_at_risk_goes_to_a_person_first_and_is_offered_nothing() -> None:
    strategy = default_strategy([T.HIGH_VALUE, T.AT_RISK, T.LONG_STANDING])
    assert strategy.tone is Tone.REASSURING
    assert strategy.handoff_threshold == FIRST_SIGN_OF_FRUSTRATION == 0.2
    assert (strategy.priority, strategy.offers) == (1, ())
    assert strategy.sla_minutes < DEFAULT_STRATEGY.sla_minutes


def test_long_standing_customers_at_risk_are_as_valuable_as_high_spenders() -> None:
    """A lapsing customer of many years spends little now; losing them still costs most."""
    assert default_strategy([T.LONG_STANDING, T.AT_RISK]) == default_strategy(
        [T.HIGH_VALUE, T.AT_RISK]
    )
    assert default_strategy([T.AT_RISK]).handoff_threshold > FIRST_SIGN_OF_FRUSTRATION


def test_new_customers_are_welcomed_with_an_offer_and_the_stock_threshold() -> None:
    strategy = default_strategy(["new", "low_value"])
    assert strategy.tone is Tone.WELCOMING
    assert "welcome" in strategy.greet("Grace").lower() and "Grace" in strategy.greet("Grace")
    assert strategy.offers and set(strategy.offers) <= set(OFFER_WORDING.values())
    assert strategy.handoff_threshold == DEFAULT_HANDOFF_THRESHOLD


@pytest.mark.parametrize(
    "traits",
    [
        list(combination)
        for size in (0, 1, 2, 3)
        for combination in itertools.combinations(list(SegmentTrait), size)
    ],
)
def test_every_combination_of_traits_gives_a_valid_strategy(traits: list[SegmentTrait]) -> None:
    strategy = default_strategy(traits)
    assert check_fields(strategy.as_fields(), traits)["greeting"] == strategy.greeting
    assert "{first_name}" in strategy.greeting
    assert 1 <= strategy.priority <= 5 and 0 < strategy.handoff_threshold <= 0.55
    if T.AT_RISK in traits:
        assert strategy.offers == ()
        assert strategy.handoff_threshold < DEFAULT_HANDOFF_THRESHOLD
        assert strategy.priority < DEFAULT_STRATEGY.priority
    assert strategy_of(strategy.as_fields()) == strategy


def test_a_customer_who_prefers_the_phone_reaches_a_person_sooner() -> None:
    online = default_strategy([T.LOW_VALUE, T.DIGITAL])
    phone = default_strategy([T.LOW_VALUE, T.PREFERS_PHONE])
    assert phone.handoff_threshold < online.handoff_threshold


def test_checked_fields_are_normalised() -> None:
    checked = check_fields(
        {
            "tone": "warm",
            "greeting": "  Hello {first_name}, {{welcome}}!  ",
            "offers": [" Savings? "],
            "handoff_threshold": 1,
        }
    )
    assert checked == {
        "tone": Tone.WARM,
        "greeting": "Hello {first_name}, {{welcome}}!",
        "offers": ["Savings?"],
        "handoff_threshold": 1.0,
    }
    assert strategy_of({**DEFAULT_STRATEGY.as_fields(), **checked}).greet("Ada") == (
        "Hello Ada, {welcome}!"
    )


def test_the_refusal_names_the_field_and_says_what_is_allowed() -> None:
    with pytest.raises(InvalidStrategy) as refused:
        check_fields({"priority": 9})
    assert (refused.value.field, refused.value.message) == (
        "priority",
        "'priority' must be an integer from 1 to 5.",
    )
    with pytest.raises(InvalidStrategy, match="at-risk"):
        check_fields({"offers": ["A loan"]}, ["at_risk"])
    assert check_fields({"offers": []}, ["at_risk"]) == {"offers": []}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
TEMPLATES = st.text(alphabet="{}!:0a_ first_name.[]", max_size=30)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from([*FIELDS, "other"]),
        JSON_VALUES | TEMPLATES,
        max_size=4,
    )
)
def test_any_json_edit_is_accepted_whole_or_refused_cleanly(fields: dict) -> None:
    """Whatever a client sends, the check either passes a strategy that greets without error
    or raises InvalidStrategy: never anything a handler would turn into a 500."""
    try:
        checked = check_fields(fields)
    except InvalidStrategy as refused:
        assert refused.field and refused.message
        return
    strategy = strategy_of({**DEFAULT_STRATEGY.as_fields(), **checked})
    assert strategy.greet("Ada")
