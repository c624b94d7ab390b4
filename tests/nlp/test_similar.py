"""The similar-ticket index: ranking, explanations, incremental adds, persistence, exactness."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from nlp.similar import EncoderChangedError, SimilarTicketIndex, Ticket, ticket_lemmas
from nlp.text import lemmas

BANKING77 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "banking77"

TICKETS = [
    Ticket("T1", "My card has not arrived yet, it was ordered two weeks ago", "Reissued", "card"),
    Ticket("T2", "Where is the new card you posted to me?", "Tracked delivery", "card"),
    Ticket("T3", "The card never came in the post", "Reissued by courier", "card"),
    Ticket("T4", "I was charged twice for the same coffee", "Refunded duplicate", "charge"),
    Ticket("T5", "There is a double payment on my statement", "Reversed payment", "charge"),
    Ticket("T6", "A shop took the money two times", "Refunded duplicate", "charge"),
    Ticket("T7", "I forgot my PIN and cannot withdraw cash", "PIN reminder sent", "pin"),
    Ticket("T8", "How do I reset the PIN of my card?", "Explained PIN reset", "pin"),
    Ticket("T9", "My PIN is blocked after three wrong tries", "Unblocked PIN", "pin"),
    Ticket("T10", "Can I change my address in the app?", "Explained address change", "profile"),
    Ticket("T11", "I moved house and need to update my address", "Updated address", "profile"),
    Ticket("T12", "How do I edit my personal details?", "Explained profile edit", "profile"),
]


def unlabelled(tickets: list[Ticket]) -> list[Ticket]:
    return [Ticket(t.ticket_id, t.text, t.resolution) for t in tickets]


@pytest.fixture(scope="module")
def index() -> SimilarTicketIndex:
    return SimilarTicketIndex().fit(TICKETS)


def test_lemmas_cached_per_chunk_equal_the_shared_lemmatiser() -> None:
    texts = [t.text for t in TICKETS] + [
        "I'm can't won't  don't\tstop",
        "e-mail foo@bar.com, http://x.y/z?q=1 (ref #12/03) £20.50 100km :)",
        "U.S. Mr. Smith's card... hasn't ARRIVED!!",
    ]
    assert [ticket_lemmas(t) for t in texts] == [lemmas(t) for t in texts]


@pytest.mark.parametrize("labelled", [True, False])
def test_a_paraphrase_finds_the_right_ticket_first(labelled: bool) -> None:
    index = SimilarTicketIndex().fit(TICKETS if labelled else unlabelled(TICKETS))
    assert index.query("I have been charged twice for one coffee", k=3)[0].ticket_id == "T4"
    assert index.query("my pin got blocked, too many wrong tries", k=3)[0].ticket_id == "T9"
    assert index.query("update address after I moved", k=3)[0].ticket_id == "T11"


def test_category_agreement_ranks_same_category_tickets_without_shared_words(
    index: SimilarTicketIndex,
) -> None:
    matches = index.query("a shop charged me twice", k=3)
    assert [m.label for m in matches] == ["charge"] * 3
    lexical = SimilarTicketIndex(label_weight=0.0).fit(TICKETS)
    assert sum(m.label == "charge" for m in lexical.query("a shop charged me twice", k=3)) < 3


def test_matches_are_sorted_and_carry_resolution_and_label(index: SimilarTicketIndex) -> None:
    matches = index.query("my card did not arrive", k=5)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    by_id = {t.ticket_id: t for t in TICKETS}
    for match in matches:
        ticket = by_id[match.ticket_id]
        assert (match.text, match.resolution, match.label) == (
            ticket.text,
            ticket.resolution,
            ticket.label,
        )


def test_matched_terms_are_query_terms_present_in_the_ticket(index: SimilarTicketIndex) -> None:
    query = "my new card still has not arrived"
    matches = index.query(query, k=5)
    assert matches[0].matched_terms
    for match in matches:
        assert set(match.matched_terms) <= set(lemmas(query)) & set(lemmas(match.text))
    assert "arrive" in index.query(query, k=1)[0].matched_terms


def test_add_makes_a_new_ticket_and_its_new_words_searchable() -> None:
    index = SimilarTicketIndex().fit(TICKETS)
    assert "chargeback" not in index.vocabulary_
    index.add([Ticket("T13", "Please raise a chargeback for the broken blender", "Raised", None)])
    assert len(index) == len(TICKETS) + 1
    best = index.query("chargeback for my blender", k=3)[0]
    assert best.ticket_id == "T13"
    assert "chargeback" in best.matched_terms
    assert best.label in index.classes_


def test_add_with_a_new_category_and_duplicate_ids() -> None:
    index = SimilarTicketIndex().fit(TICKETS)
    index.add([Ticket("T13", "Close my account for good", "Closed", "closure")])
    assert index.classes_[-1] == "closure"
    matches = {m.ticket_id: m for m in index.query("please close my account", k=3)}
    assert matches["T13"].label == "closure"
    with pytest.raises(ValueError, match="T1"):
        index.add([Ticket("T1", "again", "again")])
    with pytest.raises(ValueError):
        SimilarTicketIndex().fit([TICKETS[0], TICKETS[0]])


def test_save_and_load_give_identical_results_and_keep_incremental_adds(tmp_path: Path) -> None:
    index = SimilarTicketIndex().fit(TICKETS)
    index.add([Ticket("T13", "My card was swallowed by the ATM", "Card reordered", "card")])
    queries = ["the ATM swallowed my card", "charged two times", "reset pin", "address"]
    before = [index.query(q, k=4) for q in queries]
    index.save(tmp_path / "similar-index")
    loaded = SimilarTicketIndex.load(tmp_path / "similar-index")
    assert [loaded.query(q, k=4) for q in queries] == before
    assert before[0][0].ticket_id == "T13"
    loaded.add([Ticket("T14", "The ATM kept my card overnight", "Card returned", "card")])
    loaded.save(tmp_path / "similar-index")
    again = SimilarTicketIndex.load(tmp_path / "similar-index")
    assert len(again) == len(TICKETS) + 2
    assert {m.ticket_id for m in again.query("ATM kept my card", k=2)} == {"T13", "T14"}


def test_an_empty_index_returns_nothing_until_tickets_are_added() -> None:
    index = SimilarTicketIndex().fit([])
    assert len(index) == 0
    assert index.query("my card has not arrived") == []
    index.add(TICKETS[:3])
    assert index.query("the card never came", k=1)[0].ticket_id == "T3"


def test_empty_queries_bad_k_and_unfitted_index(index: SimilarTicketIndex) -> None:
    assert index.query("") == []
    assert index.query("  ?! ") == []
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.query("card", k=0)
    with pytest.raises(NotFittedError):
        SimilarTicketIndex().query("card")


def test_k_larger_than_the_index(index: SimilarTicketIndex) -> None:
    matches = index.query("my card has not arrived", k=100)
    assert 0 < len(matches) <= len(TICKETS)
    assert len({m.ticket_id for m in matches}) == len(matches)
    lexical = SimilarTicketIndex().fit(unlabelled(TICKETS))
    only_card = lexical.query("card", k=100)
    assert {m.ticket_id for m in only_card} == {"T1", "T2", "T3", "T8"}


@pytest.mark.parametrize("labelled", [True, False])
def test_pruned_search_equals_scoring_every_ticket(labelled: bool) -> None:
    """The lazy top-k (common terms and unlikely categories scored late) is exact."""
    rng = random.Random(0)
    common = ["my", "the", "i", "a", "card", "to", "is", "not", "can", "do"]
    topics = {
        "card": ["arrive", "deliver", "post", "track", "late", "courier"],
        "pin": ["pin", "reset", "forgot", "blocked", "unblock", "code"],
        "fee": ["fee", "charge", "extra", "cost", "commission", "price"],
        "transfer": ["transfer", "send", "iban", "pending", "bank", "account"],
    }
    tickets = []
    for i in range(3000):
        topic = rng.choice(sorted(topics))
        words = rng.sample(common, 4) + rng.sample(topics[topic], 2) + [f"w{rng.randrange(500)}"]
        rng.shuffle(words)
        tickets.append(Ticket(f"t{i}", " ".join(words), "", topic if labelled else None))
    index = SimilarTicketIndex(merge_ratio=0.5).fit(tickets[:2500])
    index.add(tickets[2500:2900])
    index.add(tickets[2900:])
    queries = [
        " ".join(rng.sample(common + [w for ws in topics.values() for w in ws], 5))
        for _ in range(60)
    ]
    for query in queries + ["my card", "w7 the card", "is not"]:
        plan = index._plan(ticket_lemmas(query))
        everything = index._complete(plan)
        rows = np.flatnonzero(everything > 0)
        expected = rows[np.lexsort((rows, -everything[rows]))][:10]
        got = index.query(query, k=10)
        rows_got = [int(m.ticket_id[1:]) for m in got]
        assert np.allclose([m.score for m in got], everything[expected], atol=1e-5)
        assert np.allclose([m.score for m in got], everything[rows_got], atol=1e-5)


@pytest.mark.skipif(not BANKING77.is_dir(), reason=f"{BANKING77} is not on this machine")
def test_category_agreement_beats_lexical_matching_on_banking77() -> None:
    """Ten intents from BANKING77's training split: 40 past tickets and 10 queries each."""
    with open(BANKING77 / "train.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    intents = sorted({r["category"] for r in rows})[:10]
    tickets, queries = [], []
    for intent in intents:
        texts = [r["text"] for r in rows if r["category"] == intent]
        tickets += [Ticket(f"{intent}-{i}", t, "", intent) for i, t in enumerate(texts[:40])]
        queries += [(t, intent) for t in texts[40:50]]

    def precision_at_5(index: SimilarTicketIndex) -> float:
        hits = [m.label == want for text, want in queries for m in index.query(text, k=5)]
        return sum(hits) / (5 * len(queries))

    mixed = precision_at_5(SimilarTicketIndex().fit(tickets))
    lexical = precision_at_5(SimilarTicketIndex(label_weight=0.0).fit(tickets))
    assert mixed > 0.8
    assert mixed > lexical + 0.05


def test_an_index_saved_under_another_sentence_encoder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its classifier's scores mean nothing on other embeddings; one without the encoder
    (a TF-IDF classifier) loads under any."""
    import nlp.similar.categories
    import nlp.similar.index

    SimilarTicketIndex().fit(TICKETS).save(tmp_path / "encoded")
    tfidf = make_pipeline(TfidfVectorizer(), LinearSVC())
    SimilarTicketIndex(classifier=tfidf).fit(TICKETS).save(tmp_path / "tfidf")
    assert SimilarTicketIndex.load(tmp_path / "encoded").query("pin blocked", k=1)
    for module in (nlp.similar.index, nlp.similar.categories):
        monkeypatch.setattr(module, "encoder_id", lambda: "another-encoder")
    with pytest.raises(EncoderChangedError, match="crm reindex"):
        SimilarTicketIndex.load(tmp_path / "encoded")
    assert SimilarTicketIndex.load(tmp_path / "tfidf").query("pin blocked", k=1)
