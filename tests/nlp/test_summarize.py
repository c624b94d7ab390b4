from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rouge_score import rouge_scorer
from sklearn.base import clone

from nlp.summarize import ThreadSummarizer, Turn

DIALOGSUM = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "dialogsum"

HANDOFF = [
    Turn("customer", "Hi there"),
    Turn("bot", "Hello! How can I help you today?"),
    Turn(
        "customer",
        "I ordered a new debit card two weeks ago and it still has not arrived.",
        "card_arrival",
        [{"entity": "card_type", "value": "debit"}],
    ),
    Turn("bot", "Cards usually arrive within 5 working days. I can see your card was sent."),
    Turn("customer", "That does not help. Where is my card? I need it!", "card_arrival"),
    Turn("bot", "I am sorry. Would you like me to order a replacement card?"),
    Turn("customer", "This is ridiculous, I want to speak to a human.", "human_handoff"),
]


def test_handoff_summary_says_what_is_wanted_tried_and_open() -> None:
    summary = ThreadSummarizer().summarize(HANDOFF)
    wants, tried, still_open = summary.sentences
    assert summary.text == " ".join(summary.sentences)
    assert wants.startswith("The customer")
    assert "ordered a new debit card" in wants
    assert tried.startswith("The bot")
    assert "the customer's card" in tried  # "your" -> "the customer's"
    assert still_open.startswith("Still open: the customer")
    assert "speak to a human" in still_open
    assert summary.intents == ("card_arrival", "human_handoff")
    assert summary.entities == (("card_type", "debit"),)
    assert summary.sentiment_trend == "worsening"


def test_plain_tuples_are_accepted_and_greetings_are_not_summarised() -> None:
    summary = ThreadSummarizer().summarize(
        [
            ("customer", "Hello"),
            ("bot", "Hi! How can I help?"),
            ("customer", "I lost my wallet with my credit card in it", "lost_or_stolen_card"),
            ("bot", "I have frozen your credit card. A new one is on its way."),
            ("customer", "Thanks a lot!"),
        ]
    )
    assert len(summary.sentences) == 2  # nothing left open after the thanks
    assert summary.sentences[0] == "The customer lost their wallet with their credit card in it."
    assert summary.sentences[1].startswith("The bot has frozen the customer's credit card")
    assert summary.sentiment_trend == "improving"


def test_a_customer_question_is_reported_as_asked() -> None:
    summary = ThreadSummarizer().summarize([("customer", "Can you tell me my account balance?")])
    assert summary.sentences == (
        "The customer asks: Can the bot tell the customer their account balance?",
    )


def test_dialogue_summary_keeps_speaker_tags_and_third_person() -> None:
    turns = [
        ("#Person1#", "Good morning."),
        ("#Person2#", "Good morning. What can I do for you?"),
        ("#Person1#", "Well, I need to book a table for four people on Friday evening."),
        ("#Person2#", "Certainly. Would you prefer a table by the window or in the garden?"),
        ("#Person1#", "The garden, please. My wife loves the garden tables."),
        ("#Person2#", "Fine, I have booked a garden table for four on Friday at eight."),
    ]
    summarizer = ThreadSummarizer(dialogue_sentences=2)
    summary = summarizer.summarize(turns)
    assert 1 <= len(summary.sentences) <= 2
    assert all(re.match(r"#Person[12]#", s) for s in summary.sentences)
    assert "Good morning" not in summary.text
    assert "#Person1# needs to book a table" in summary.text  # "Well, I need" rewritten
    assert not re.search(r"\b(I|my|you|your)\b", summary.text)


def test_third_person_rewriting_can_be_switched_off() -> None:
    turns = [("#Person1#", "I need to book a table for four people on Friday evening.")]
    summary = ThreadSummarizer(third_person=False).summarize(turns)
    assert summary.text == "#Person1#: I need to book a table for four people on Friday evening."


def test_empty_threads_give_empty_summaries() -> None:
    assert ThreadSummarizer().summarize([]).text == ""
    assert ThreadSummarizer().summarize([("customer", "   ")]).text == ""


def test_behaves_as_a_stateless_estimator() -> None:
    summarizer = ThreadSummarizer(dialogue_sentences=1, position_weight=1.0)
    copy = clone(summarizer)
    assert copy.get_params() == summarizer.get_params()
    assert copy.fit([HANDOFF]) is copy
    texts = copy.transform([HANDOFF, [("#Person1#", "I lost my keys at the station today.")]])
    assert texts[0] == summarizer.summarize(HANDOFF).text
    assert texts[1] == "#Person1# lost #Person1#'s keys at the station today."


@pytest.mark.skipif(not DIALOGSUM.is_dir(), reason=f"DialogSum not found at {DIALOGSUM}")
def test_beats_lead_3_on_a_dialogsum_dev_sample() -> None:
    with open(DIALOGSUM / "dialogsum.dev.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line, _ in zip(f, range(60), strict=False)]
    summarizer = ThreadSummarizer()
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    ours = lead3 = 0.0
    for row in rows:
        turns = [tuple(line.split(": ", 1)) for line in row["dialogue"].split("\n")]
        summary = summarizer.summarize(turns)
        assert 1 <= len(summary.sentences) <= 2
        ours += scorer.score(row["summary"], summary.text)["rougeL"].fmeasure
        first_three = "\n".join(text for _, text in turns[:3])
        lead3 += scorer.score(row["summary"], first_three)["rougeL"].fmeasure
    assert ours > lead3 * 1.2


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("can I speak to an agent please", "The customer asks to speak to an agent."),
        ("Could I get a new card?", "The customer asks to get a new card."),
        ("please may I have my balance", "The customer asks to have their balance."),
    ],
)
def test_a_polite_request_reads_as_plain_third_person(text: str, summary: str) -> None:
    assert ThreadSummarizer().summarize([Turn("customer", text, "x", ())]).text == summary


def test_a_verb_joined_to_the_customers_subject_agrees_too() -> None:
    turns = [Turn("customer", "I moved house and need to change my address", "x", ())]
    assert ThreadSummarizer().summarize(turns).text == (
        "The customer moved house and needs to change their address."
    )


def test_the_customers_own_things_read_as_theirs_in_a_bot_reply() -> None:
    turns = [
        Turn("customer", "I moved house and need to change my address", "x", ()),
        Turn("bot", "You can change your address in the app under Profile."),
    ]
    assert "the customer can change their address" in ThreadSummarizer().summarize(turns).text


def test_a_customers_your_to_the_bot_means_the_company_and_to_an_agent_the_agent() -> None:
    to_bot = [Turn("customer", "What are your mortgage rates for first time buyers?", "x", ())]
    text = ThreadSummarizer().summarize(to_bot).text
    assert "the company's mortgage rates" in text
    assert "the bot's" not in text
    to_agent = [
        Turn("agent", "Hello, this is Sam from the card team."),
        Turn("customer", "Could your manager call me back tomorrow?", "x", ()),
    ]
    assert "the agent's manager" in ThreadSummarizer().summarize(to_agent).text


@pytest.mark.parametrize(
    ("said", "reads"),
    [
        ("I do not understand your question about my card.", "the bot's question"),
        ("Your answers are useless, my card was stolen.", "the bot's answers"),
    ],
)
def test_what_the_bot_itself_says_stays_the_bots(said: str, reads: str) -> None:
    text = ThreadSummarizer().summarize([Turn("customer", said, "x", ())]).text
    assert reads in text
    assert "the company's" not in text
