"""The soak's and the latency bench's bookkeeping: what counts as lost, duplicated, out of
order, and how the profile's samples are shared out. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

from bench.product import Turn, compare, expected_messages
from bench.rasa_profile import breakdown


def turn(text: str, replies: list[str] | None, status: int = 200) -> Turn:
    answers = None if replies is None else [{"recipient_id": "c", "text": r} for r in replies]
    return Turn("c", text, status, 0.1, answers)


def test_expected_messages_skip_failed_turns_and_keep_the_replies_in_order() -> None:
    turns = [turn("hi", ["Hello!", "How can I help?"]), turn("lost", None, 503), turn("bye", [])]
    assert expected_messages(turns) == [
        ("customer", "hi"),
        ("bot", "Hello!"),
        ("bot", "How can I help?"),
        ("customer", "bye"),
    ]


def test_compare_counts_lost_duplicated_unexpected_and_reordered() -> None:
    want = [("customer", "hi"), ("bot", "Hello!"), ("customer", "bye"), ("bot", "Bye!")]
    expected = {"same": want, "lost": want, "twice": want, "swapped": want, "extra": want}
    stored = {
        "same": list(want),
        "lost": want[:3],
        "twice": want + [("bot", "Hello!")],
        "swapped": [want[1], want[0], *want[2:]],
        "extra": want + [("customer", "never sent")],
    }
    figures = compare(expected, stored)
    assert figures == {
        "expected": 20,
        "stored": 21,
        "lost": 1,
        "duplicated": 1,
        "unexpected": 1,
        "out_of_order": 1,
    }


def test_a_conversation_missing_from_the_store_is_all_lost() -> None:
    figures = compare({"gone": [("customer", "hi"), ("bot", "Hello!")]}, {})
    assert (figures["lost"], figures["stored"]) == (2, 0)


def test_breakdown_shares_only_the_main_threads_samples(tmp_path: Path) -> None:
    main = "_run_module_as_main (runpy.py:196);serve (sanic/server/runners.py:155)"
    raw = tmp_path / "raw.txt"
    raw.write_text(
        f"{main};publish (bot/rasa_plugins/broker.py:62);append (bot/outbox/local.py:90) 30\n"
        f"{main};save_tracker (rasa/core/processor.py:1095);save (x.py:1) 50\n"
        f"{main};somewhere (y.py:2) 20\n"
        "_bootstrap (threading.py:973);run (bot/outbox/relay.py:70) 400\n"
    )
    shares = breakdown(raw)
    assert shares["busy_samples"] == 100
    assert shares["event broker publish"] == 30.0
    assert shares["tracker store save"] == 50.0
    assert shares["other"] == 20.0
    assert shares["NLU parse"] == 0.0
