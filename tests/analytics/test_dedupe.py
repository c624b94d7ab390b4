"""Normalisers, validation rules and duplicate detection on small frames (no database)."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from analytics.dedupe import (
    DuplicateFinder,
    Fix,
    fixes,
    missing,
    name_key,
    normalise_email,
    normalise_name,
    normalise_phone,
    valid_email,
)


def frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "name", "email", "phone", "city"])


@pytest.mark.parametrize(
    "raw", ["+44(0)121 4960260", "0121 496 0260", "(0121) 4960260", "+44 121 496 0260"]
)
def test_every_way_of_writing_a_uk_number_gives_one_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+441214960260"


@pytest.mark.parametrize("raw", ["n/a", "", "  ", None, "12"])
def test_what_is_not_a_phone_number_normalises_to_none(raw: str | None) -> None:
    assert normalise_phone(raw) is None


def test_emails_and_names_normalise_and_validate() -> None:
    assert normalise_email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    assert normalise_email("   ") is None
    assert valid_email("jane@example.com")
    assert not valid_email("jane.example.com") and not valid_email("jane@example")
    assert normalise_name("  KEVIN   ADAMS-GLOVER ") == "Kevin Adams-Glover"
    assert normalise_name("siobhan o'brien") == "Siobhan O'Brien"
    assert normalise_name("Ewan McGregor") == "Ewan McGregor", "mixed case is left alone"
    assert name_key("Smith,  John") == name_key("john smith") == "john smith"


def test_each_rule_fixes_its_field_and_fixed_data_needs_no_more_fixes() -> None:
    messy = frame(
        (1, "  JANE DOE ", " Jane@Example.com", "0121 496 0260", "Leeds"),
        (2, "Ann Lee", "ann.example.com", "n/a", "  "),
        (3, "Bob Ray", "bob@example.com", "+441214960261", " York "),
        (4, "Cy Fox", None, None, None),
    )
    found = fixes(messy)
    assert found == [
        Fix(1, "name", "  JANE DOE ", "Jane Doe", "name_format"),
        Fix(1, "email", " Jane@Example.com", "jane@example.com", "email_format"),
        Fix(1, "phone", "0121 496 0260", "+441214960260", "phone_format"),
        Fix(2, "email", "ann.example.com", None, "invalid_email"),
        Fix(2, "phone", "n/a", None, "invalid_phone"),
        Fix(2, "city", "  ", None, "blank_city"),
        Fix(3, "city", " York ", "York", "city_format"),
    ]
    fixed = messy.set_index("id")
    for fix in found:
        fixed.loc[fix.customer_id, fix.field] = fix.new
    fixed = fixed.reset_index()
    assert fixes(fixed) == []
    assert missing(fixed) == {"email": 2, "phone": 2, "city": 2}


def people() -> pd.DataFrame:
    return frame(
        (1, "John Smith", "john@example.com", "0121 496 0260", "Leeds"),
        (2, " JOHN SMITH", " John@Example.com ", None, "Leeds"),  # re-registered: e-mail
        (3, "John Smith", "js@example.org", "0113 496 0999", "Bath"),  # another John Smith
        (4, "Mary Jones", "mary@example.com", "+44 121 496 0260", "Leeds"),  # shares a landline
        (5, "Jonh Smith", None, "+441214960260", "Leeds"),  # typo, phone written otherwise
        (6, "Alice Brown", "alice@example.com", "n/a", None),
    )


def test_the_same_person_is_merged_into_the_oldest_record_and_look_alikes_are_not() -> None:
    finder = DuplicateFinder().fit(people())

    assert finder.duplicates() == [
        (1, 2, 1.0 * 0.5 + 0.25, ["email", "name"]),
        (1, 5, pytest.approx(0.5 * 0.9 + 0.25), ["name", "phone"]),
    ]
    candidates = finder.candidates_.set_index(["left_id", "right_id"])
    assert candidates.loc[(1, 3), "matched_on"] == ["name"]
    assert not candidates.loc[(1, 3), "duplicate"], "a shared name alone is not enough"
    assert candidates.loc[(1, 4), "matched_on"] == ["phone"]
    assert not candidates.loc[(1, 4), "duplicate"], "a shared phone with another name neither"
    assert candidates.loc[(1, 4), "name_similarity"] < finder.name_threshold
    assert 6 not in set(candidates.reset_index()[["left_id", "right_id"]].values.ravel())


def test_a_chain_of_duplicates_is_one_person() -> None:
    chain = frame(
        (7, "Ann Lee", "ann@example.com", None, None),
        (8, "Ann Lee", "ann@example.com", "0121 496 0000", None),
        (9, "Anne Lee", None, "0121 496 0000", None),
    )
    pairs = DuplicateFinder(name_threshold=80).fit(chain).duplicates()
    assert [(kept, merged) for kept, merged, *_ in pairs] == [(7, 8), (7, 9)]


def test_the_name_threshold_decides_typos() -> None:
    strict = DuplicateFinder(name_threshold=99).fit(people())
    assert [merged for _, merged, *_ in strict.duplicates()] == [2]


@pytest.mark.parametrize("count", [0, 1, 2])
def test_customers_with_nothing_in_common_have_no_duplicates(count: int) -> None:
    strangers = frame(
        (1, "Ann Lee", "ann@example.com", "0121 496 0000", "Leeds"),
        (2, "Bob Stone", "bob@example.com", "0161 496 0000", "York"),
    ).head(count)
    finder = DuplicateFinder().fit(strangers)
    assert finder.duplicates() == []
    assert finder.candidates_.empty


def test_duplicates_need_a_fit_first() -> None:
    with pytest.raises(NotFittedError):
        DuplicateFinder().duplicates()


def test_a_block_too_big_to_tell_people_apart_is_left_out() -> None:
    office = frame(
        (1, "Ann Lee", "info@office.com", None, None),
        (2, "Ann Lee", "info@office.com", None, None),
        (3, "Ann Leigh", "info@office.com", None, None),
    )
    finder = DuplicateFinder(max_block=2).fit(office)
    assert finder.skipped_blocks_ == [("email", "info@office.com", 3)]
    assert finder.duplicates() == []
    assert set(finder.candidates_["matched_on"].map(tuple)) == {("name",)}
