"""The intent benchmark's pure functions on small hand-computed cases.

No data set, no Rasa: the probability rows are written out here and every expected figure
was worked out by hand (the comments show how). The fallback rule is Rasa's
FallbackClassifier: top confidence below `threshold`, or the top two closer than
`ambiguity`, goes to `nlu_fallback`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bench.intent as intent
from bench.common import read_banking77, read_intent_csv
from bench.intent_metrics import (
    FALLBACK_INTENT,
    expected_calibration_error,
    falls_back,
    held_out_intents,
    oos_auroc,
    oos_curve,
    oos_point,
    scores,
    softmax_rows,
    with_fallback,
)
from bench.intent_oos import median_over_seeds, rescore_point, top_two
from bench.intent_systems import (
    _RememberingEncoder,
    accepted,
    confidences,
    make_model,
    nlu_config,
    settings_of,
)

CLASSES = np.array(["a", "b", "c"])

# In-scope rows (classes a, b, c) with whether the top intent is the true one, and
# out-of-scope rows (intents the model never saw).
IN_SCOPE = np.array(
    [
        [0.8, 0.1, 0.1],  # top 0.8, gap 0.7
        [0.6, 0.3, 0.1],  # top 0.6, gap 0.3
        [0.4, 0.35, 0.25],  # top 0.4
        [0.2, 0.5, 0.3],  # top 0.5, gap 0.2
    ]
)
IN_SCOPE_CORRECT = np.array([True, False, True, True])
OUT_OF_SCOPE = np.array(
    [
        [0.3, 0.3, 0.4],  # top 0.4
        [0.7, 0.2, 0.1],  # top 0.7, gap 0.5
    ]
)


# --- held-out intents -------------------------------------------------------------------


def test_held_out_intents_are_a_seeded_sorted_quarter() -> None:
    names = [f"i{k}" for k in range(8)]
    messages = names * 3  # the intent of every message: duplicates count once
    held = held_out_intents(messages, seed=0)
    assert held == ["i5", "i7"]  # 8 / 4 = 2 of them, pinned for seed 0
    assert held == sorted(held) and set(held) <= set(names)
    assert held_out_intents(list(reversed(messages)), seed=0) == held  # order does not matter
    assert held_out_intents(messages, seed=1) == ["i3", "i4"]
    by_seed = {tuple(held_out_intents(messages, seed)) for seed in range(4)}
    assert len(by_seed) == 4  # the seed changes the choice


def test_held_out_intents_count_rounds_and_keeps_one_to_train_on() -> None:
    assert len(held_out_intents(list("abcdefghij"), 0)) == 2  # round(2.5) == 2
    assert len(held_out_intents(list("abcdef"), 0)) == 2  # round(1.5) == 2
    assert len(held_out_intents(list("abcdefghijklmnopqrst"), 0, fraction=0.5)) == 10
    assert held_out_intents(["a", "b"], 0) in (["a"], ["b"])  # at least one
    with pytest.raises(ValueError, match="nothing to train on"):
        held_out_intents(["a"], 0)
    with pytest.raises(ValueError, match="nothing to train on"):
        held_out_intents(list("abcd"), 0, fraction=1.0)


# --- the fallback rule --------------------------------------------------------------------


def test_falls_back_on_low_or_ambiguous_top_intent() -> None:
    rows = np.array(
        [
            [0.5, 0.3, 0.2],  # top 0.5 >= 0.4, gap 0.2 >= 0.1: answered
            [0.35, 0.33, 0.32],  # top below 0.4
            [0.15, 0.45, 0.40],  # gap 0.05 below 0.1, whatever the column order
            [0.05, 0.05, 0.9],
        ]
    )
    assert falls_back(rows, 0.4, 0.1).tolist() == [False, True, True, False]
    assert falls_back(rows, 0.4).tolist() == [False, True, False, False]  # no ambiguity rule
    assert falls_back(rows, 0.0, 0.0).tolist() == [False] * 4


def test_falls_back_boundaries_are_rasas_strict_less_than() -> None:
    # Values exact in binary: 0.75 - 0.25 == 0.5 exactly.
    rows = np.array([[0.25, 0.75], [0.5, 0.5]])
    assert falls_back(rows, 0.75, 0.5).tolist() == [False, True]  # top == threshold: kept
    assert falls_back(rows, 0.76).tolist() == [True, True]
    assert falls_back(rows, 0.5, 0.0).tolist() == [False, False]  # a tie passes gap 0
    assert falls_back(rows, 0.5, 0.01).tolist() == [False, True]


def test_with_fallback_names_the_top_intent_or_the_fallback() -> None:
    rows = np.array([[0.1, 0.7, 0.2], [0.2, 0.3, 0.5], [0.45, 0.4, 0.15]])
    assert with_fallback(rows, CLASSES, 0.4) == ["b", "c", "a"]
    assert with_fallback(rows, CLASSES, 0.6) == ["b", FALLBACK_INTENT, FALLBACK_INTENT]
    # Ambiguity 0.1: the third row's gap 0.05 sends it back; the second's 0.2 does not.
    assert with_fallback(rows, CLASSES, 0.4, ambiguity=0.1) == ["b", "c", FALLBACK_INTENT]
    assert with_fallback(rows, CLASSES, 0.4, ambiguity=0.25) == [
        "b",
        FALLBACK_INTENT,
        FALLBACK_INTENT,
    ]
    assert all(type(name) is str for name in with_fallback(rows, CLASSES, 0.4))


# --- accuracy, macro-F1, calibration ------------------------------------------------------


def test_scores_count_fallback_only_against_recall() -> None:
    truth = ["a", "a", "b", "b"]
    predicted = ["a", FALLBACK_INTENT, "b", "a"]
    result = scores(truth, predicted)
    assert result["accuracy"] == pytest.approx(0.5)
    # a: P 1/2, R 1/2, F1 1/2; b: P 1, R 1/2, F1 2/3; nlu_fallback is no class of its own.
    assert result["macro_f1"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_expected_calibration_error_by_hand() -> None:
    rows = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.45, 0.55]])
    classes = np.array(["a", "b"])
    truth = ["a", "b", "b", "b"]  # right, wrong, right, right
    # 15 bins: 0.9 in (13/15, 14/15] (1 of 2 right), 0.7 in (10/15, 11/15] (right),
    # 0.55 in (8/15, 9/15] (right): 2/4 * |0.5 - 0.9| + 1/4 * 0.3 + 1/4 * 0.45.
    assert expected_calibration_error(rows, classes, truth) == pytest.approx(0.3875)
    # Two bins: everything in (0.5, 1]: |3/4 - mean(0.9, 0.9, 0.7, 0.55)| = |0.75 - 0.7625|.
    assert expected_calibration_error(rows, classes, truth, bins=2) == pytest.approx(0.0125)
    truth_wrong_last = ["a", "b", "b", "a"]
    # The 0.55 row now wrong: 0.2 + 0.075 + 1/4 * 0.55.
    assert expected_calibration_error(rows, classes, truth_wrong_last) == pytest.approx(0.4125)


def test_expected_calibration_error_is_zero_when_confidence_matches_accuracy() -> None:
    rows = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(rows, np.array(["a", "b"]), ["a", "a", "a", "b"]) == 0.0
    assert expected_calibration_error(
        rows, np.array(["a", "b"]), ["b", "b", "b", "b"]
    ) == pytest.approx(0.75)


def test_expected_calibration_error_bins_include_their_upper_edge() -> None:
    classes = np.array(["a", "b"])
    # A wrong answer at confidence 1.0 is in the last bin: |0 - 1|.
    assert expected_calibration_error(np.array([[1.0, 0.0]]), classes, ["b"]) == 1.0
    # Two bins (0, 0.5] and (0.5, 1]: the 0.5 tie (argmax: a, right) is in the first,
    # 1/2 * |1 - 0.5|; the wrong 1.0 in the second, 1/2 * |0 - 1|.
    rows = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert expected_calibration_error(rows, classes, ["b", "a"], bins=2) == 0.75


def test_softmax_rows_is_a_stable_softmax() -> None:
    raw = np.array([[0.0, np.log(3.0)], [1000.0, 1000.0 + np.log(3.0)], [5.0, 5.0]])
    np.testing.assert_allclose(softmax_rows(raw), [[0.25, 0.75], [0.25, 0.75], [0.5, 0.5]])


# --- out-of-scope detection ---------------------------------------------------------------


def test_oos_point_at_a_threshold() -> None:
    point = oos_point(IN_SCOPE, IN_SCOPE_CORRECT, OUT_OF_SCOPE, 0.5)
    # In scope: 0.8, 0.6 and 0.5 (not below 0.5) kept, 0.4 not; kept and right: rows 1 and 4.
    # Out of scope: 0.4 caught, 0.7 answered.
    assert point == {
        "threshold": 0.5,
        "ambiguity": 0.0,
        "in_scope_kept": 0.75,
        "in_scope_kept_correct": 0.5,
        "out_of_scope_fallback": 0.5,
    }


def test_oos_point_with_the_ambiguity_rule() -> None:
    point = oos_point(IN_SCOPE, IN_SCOPE_CORRECT.astype(int), OUT_OF_SCOPE, 0.5, 0.25)
    # The fourth in-scope row's gap 0.2 < 0.25 now sends it back too: rows 1 and 2 kept,
    # only row 1 right. Out of scope: the 0.7 row's gap is 0.5, still answered.
    assert point["in_scope_kept"] == 0.5
    assert point["in_scope_kept_correct"] == 0.25
    assert point["out_of_scope_fallback"] == 0.5
    assert point["ambiguity"] == 0.25


def test_oos_curve_runs_from_keep_everything_to_catch_everything() -> None:
    curve = oos_curve(IN_SCOPE, IN_SCOPE_CORRECT, OUT_OF_SCOPE, [0.0, 0.5, 0.9])
    assert [p["threshold"] for p in curve] == [0.0, 0.5, 0.9]
    assert all(p["ambiguity"] == 0.0 for p in curve)
    assert [p["in_scope_kept"] for p in curve] == [1.0, 0.75, 0.0]
    assert [p["in_scope_kept_correct"] for p in curve] == [0.75, 0.5, 0.0]
    assert [p["out_of_scope_fallback"] for p in curve] == [0.0, 0.5, 1.0]


def test_oos_auroc_by_hand() -> None:
    high, low = np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([[0.5, 0.5], [0.6, 0.4]])
    assert oos_auroc(high, low) == 1.0  # every in-scope message more confident
    assert oos_auroc(low, high) == 0.0  # every one less confident
    assert oos_auroc(low, low) == 0.5
    # Top confidences in scope 0.8, 0.6, 0.4, 0.5 against 0.4 and 0.7: of the 8 pairs,
    # 3 beat 0.4 and one ties it (half), 1 beats 0.7: 4.5 / 8.
    assert oos_auroc(IN_SCOPE, OUT_OF_SCOPE) == pytest.approx(0.5625)


def test_top_two_keeps_the_two_highest_rounded() -> None:
    rows = np.array([[0.1, 0.8, 0.1], [0.1234567, 0.2, 0.6765433]])
    assert top_two(rows) == [[0.1, 0.8], [0.2, 0.676543]]


def test_rescore_point_from_stored_top_two_matches_the_full_rows() -> None:
    run = {
        "in_scope_top_two": top_two(IN_SCOPE),
        "in_scope_correct": IN_SCOPE_CORRECT.astype(int).tolist(),
        "out_of_scope_top_two": top_two(OUT_OF_SCOPE),
    }
    assert run["in_scope_top_two"] == [[0.1, 0.8], [0.3, 0.6], [0.35, 0.4], [0.3, 0.5]]
    for threshold, ambiguity in ((0.5, 0.0), (0.5, 0.25), (0.45, 0.35), (0.9, 0.0)):
        assert rescore_point(run, threshold, ambiguity) == oos_point(
            IN_SCOPE, IN_SCOPE_CORRECT, OUT_OF_SCOPE, threshold, ambiguity
        )
    point = rescore_point(run, 0.5, 0.25)
    assert (point["in_scope_kept"], point["in_scope_kept_correct"]) == (0.5, 0.25)


def _point(threshold: float, kept: float, correct: float, caught: float) -> dict[str, float]:
    return {
        "threshold": threshold,
        "ambiguity": 0.0,
        "in_scope_kept": kept,
        "in_scope_kept_correct": correct,
        "out_of_scope_fallback": caught,
    }


def _run(seed: int, accuracy: float, auroc: float, kept: float, caught: float) -> dict[str, Any]:
    return {
        "seed": seed,
        "in_scope_accuracy": accuracy,
        "auroc": auroc,
        "curve": [_point(0.0, 1.0, accuracy, 0.0), _point(0.5, kept, kept / 2, caught)],
        "points": {"shipped": {**_point(0.43, kept, kept / 2, caught), "ambiguity": 0.15}},
    }


def test_median_over_seeds_takes_each_rate_separately() -> None:
    runs = [
        _run(0, 0.9, 0.60, kept=0.8, caught=0.3),
        _run(1, 0.7, 0.90, kept=0.6, caught=0.5),
        _run(2, 0.8, 0.75, kept=0.9, caught=0.1),
    ]
    median = median_over_seeds(runs)
    assert median["seeds"] == [0, 1, 2]
    assert median["in_scope_accuracy"] == pytest.approx(0.8)
    assert median["auroc"] == pytest.approx(0.75)
    assert median["curve"][0] == _point(0.0, 1.0, 0.8, 0.0)
    assert median["curve"][1] == pytest.approx(_point(0.5, 0.8, 0.4, 0.3))
    assert median["points"]["shipped"] == pytest.approx(
        {**_point(0.43, 0.8, 0.4, 0.3), "ambiguity": 0.15}
    )
    # Two seeds: the mean of the middle two.
    assert median_over_seeds(runs[:2])["auroc"] == pytest.approx(0.75)


def test_median_over_seeds_needs_the_same_curve_in_every_run() -> None:
    short = _run(1, 0.7, 0.9, kept=0.6, caught=0.5)
    short["curve"] = short["curve"][:1]
    with pytest.raises(ValueError):
        median_over_seeds([_run(0, 0.9, 0.6, kept=0.8, caught=0.3), short])


# --- bench.intent: the shipped fallback from stored predictions ---------------------------

SHIPPED = {"threshold": 0.43, "ambiguity_threshold": 0.15}
# Top two per message: answered, top 0.4 < 0.43, answered, gap 0.05 < 0.15.
STORED_TOP_TWO = [[0.1, 0.9], [0.3, 0.4], [0.2, 0.7], [0.45, 0.5]]


def test_shipped_scores_apply_config_fallback_to_stored_predictions() -> None:
    stored = {"top_two": STORED_TOP_TWO, "predicted": ["a", "a", "b", "a"]}
    result = intent.shipped_scores(stored, ["a", "a", "b", "b"], SHIPPED)
    # Answered: a, fallback, b, fallback. Accuracy 2/4; F1 of a and b both 2/3.
    assert result == pytest.approx({"accuracy": 0.5, "macro_f1": 2 / 3, "fallback_rate": 0.5})


def test_shipped_handled_counts_right_answers_and_held_back_wrong_ones() -> None:
    stored = {"held_out_top_two": STORED_TOP_TWO, "held_out_correct": [1, 0, 1, 0]}
    assert intent.shipped_handled(stored, SHIPPED) == 1.0
    stored["held_out_correct"] = [1, 1, 0, 0]  # a right one held back, a wrong one answered
    assert intent.shipped_handled(stored, SHIPPED) == 0.5


def test_rescore_recomputes_every_fallback_figure_in_place(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("text,category\nw,a\nx,a\ny,b\nz,b\n", encoding="utf-8")
    runs = [
        {
            "seed": seed,
            "in_scope_accuracy": 0.75,
            "auroc": 0.5625,
            "curve": [_point(0.0, 1.0, 0.75, 0.0)],
            "in_scope_top_two": top_two(IN_SCOPE),
            "in_scope_correct": [1, 0, 1, 1],
            "out_of_scope_top_two": top_two(OUT_OF_SCOPE),
            "points": {"shipped": _point(0.0, 1.0, 0.75, 0.0)},
        }
        for seed in (0, 1)
    ]
    datasets = {
        "tiny": {
            "data": str(tmp_path),
            "shipped_fallback": {"threshold": 0.0, "ambiguity_threshold": 0.0},
            "test": {
                "baseline": {"accuracy": 0.25},
                "today": {"top_two": STORED_TOP_TWO, "predicted": ["a", "a", "b", "a"]},
            },
            "validation": {
                "today": {
                    "held_out_top_two": STORED_TOP_TWO,
                    "held_out_correct": [1, 1, 0, 0],
                    "handled_rate_by_rule": {"chosen": 0.9, "shipped": 0.0},
                }
            },
            "oos": {"today": {"runs": runs, "median": {}}},
        }
    }
    fallback = {"threshold": 0.43, "ambiguity_threshold": 0.15}
    intent.rescore(datasets, fallback)
    d = datasets["tiny"]
    assert d["shipped_fallback"] == fallback and "rescored" in d
    assert d["test"]["baseline"] == {"accuracy": 0.25}  # no stored probabilities: untouched
    assert d["test"]["today"]["with_shipped_fallback"] == pytest.approx(
        {"accuracy": 0.5, "macro_f1": 2 / 3, "fallback_rate": 0.5}
    )
    assert d["validation"]["today"]["handled_rate_by_rule"] == {"chosen": 0.9, "shipped": 0.5}
    # In scope tops 0.8, 0.6, 0.4, 0.5 (gaps 0.7, 0.3, -, 0.2): the 0.4 one falls back.
    expected = {
        "threshold": 0.43,
        "ambiguity": 0.15,
        "in_scope_kept": 0.75,
        "in_scope_kept_correct": 0.5,
        "out_of_scope_fallback": 0.5,
    }
    assert all(run["points"]["shipped"] == expected for run in runs)
    assert d["oos"]["today"]["median"]["points"]["shipped"] == expected
    assert d["oos"]["today"]["median"]["seeds"] == [0, 1]


def test_previous_datasets_tolerates_a_missing_or_odd_json(tmp_path: Path) -> None:
    path = tmp_path / "intent.json"
    assert intent.previous_datasets(path) == {}
    path.write_text("{not json", encoding="utf-8")
    assert intent.previous_datasets(path) == {}
    path.write_text("[1, 2]", encoding="utf-8")
    assert intent.previous_datasets(path) == {}
    path.write_text(json.dumps({"datasets": {"banking77": {"intents": 77}}}), encoding="utf-8")
    assert intent.previous_datasets(path) == {"banking77": {"intents": 77}}


# --- bench.intent_systems -----------------------------------------------------------------


def test_accepted_keeps_only_known_settings() -> None:
    settings = {"C": 1.0, "lemmas": True, "embedding_weight": 0.0}
    assert accepted(settings, {"C", "lemmas", "other"}) == {"C": 1.0, "lemmas": True}
    assert accepted(settings, set()) == {}


def test_settings_of_the_baseline_and_of_a_plain_estimator() -> None:
    assert settings_of(make_model("baseline")) == {"pipeline": "TfidfVectorizer() + LinearSVC()"}

    class Estimator:
        def get_params(self, deep: bool = False) -> dict[str, Any]:
            return {"C": 1.0, "ngrams": (1, 4), "name": "x", "on": True, "none": None, "obj": []}

    assert settings_of(Estimator()) == {
        "C": 1.0,
        "ngrams": [1, 4],
        "name": "x",
        "on": True,
        "none": None,
    }


def test_confidences_of_a_model_without_predict_proba() -> None:
    texts = ["open account", "open an account", "lost card", "card lost", "pay bill", "bill pay"]
    labels = ["account", "account", "card", "card", "bill", "bill"]
    model = make_model("baseline").fit(texts, labels)
    conf = confidences(model, ["lost my card", "open account"])
    assert conf.classes.tolist() == ["account", "bill", "card"]
    assert conf.calibrated is None
    assert conf.raw.shape == (2, 3)
    np.testing.assert_allclose(conf.raw.sum(axis=1), [1.0, 1.0])
    assert conf.classes[conf.raw.argmax(axis=1)].tolist() == ["card", "account"]


def test_confidences_prefers_predict_proba_when_there_is_one() -> None:
    class Model:
        classes_ = np.array(["a", "b"])

        def decision_function(self, texts: list[str]) -> np.ndarray:
            return np.array([[0.0, np.log(3.0)]] * len(texts))

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            return np.array([[0.6, 0.4]] * len(texts))

    conf = confidences(Model(), ["x"])
    np.testing.assert_allclose(conf.raw, [[0.25, 0.75]])
    np.testing.assert_allclose(conf.calibrated, [[0.6, 0.4]])


def test_make_model_baseline_is_an_unfitted_tfidf_svm() -> None:
    model = make_model("baseline")
    assert [type(step).__name__ for _, step in model.steps] == ["TfidfVectorizer", "LinearSVC"]
    assert make_model("baseline") is not model
    assert not hasattr(model, "classes_")


def test_remembering_encoder_embeds_each_text_once() -> None:
    calls: list[list[str]] = []

    class Encoder:
        def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
            calls.append(list(texts))
            return np.array([[float(len(t)), kwargs.get("scale", 1.0)] for t in texts]).reshape(
                -1, 2
            )

    memo: dict[str, np.ndarray] = {}
    encoder = _RememberingEncoder(Encoder(), memo)
    first = encoder.encode(["aa", "b", "aa"], scale=2.0)
    np.testing.assert_array_equal(first, [[2.0, 2.0], [1.0, 2.0], [2.0, 2.0]])
    assert calls == [["aa", "b"]]
    second = encoder.encode(["b", "ccc"])
    np.testing.assert_array_equal(second, [[1.0, 2.0], [3.0, 1.0]])  # "b" from memory
    assert calls == [["aa", "b"], ["ccc"]]
    np.testing.assert_array_equal(encoder.encode(["ccc", "aa"]), [[3.0, 1.0], [2.0, 2.0]])
    assert calls == [["aa", "b"], ["ccc"]]  # all remembered: the encoder is not called
    assert set(memo) == {"aa", "b", "ccc"}
    assert encoder.encode([]).shape == (0, 2)
    assert calls[-1] == []


def test_nlu_config_for_the_product_is_the_pipeline_without_policies() -> None:
    config = {
        "pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "FallbackClassifier"}],
        "policies": [{"name": "RulePolicy"}],
    }
    result = nlu_config(config, "product", "bench-x")
    assert result == {
        "recipe": "default.v1",
        "assistant_id": "bench-x",
        "language": "en",
        "pipeline": config["pipeline"],
        "policies": [],
    }
    result["pipeline"][0]["extra"] = 1
    assert config["pipeline"][0] == {"name": "WhitespaceTokenizer"}  # a copy
    with pytest.raises(ValueError, match="no Rasa pipeline"):
        nlu_config(config, "baseline", "bench-x")


# --- bench.common: the text,category reader -----------------------------------------------


def test_read_intent_csv_reads_text_and_category(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(
        'text,category\nhello there,greet\n"lost my card, help",card_lost\nbye,goodbye\n',
        encoding="utf-8",
    )
    texts, labels = read_intent_csv(tmp_path, "train")
    assert texts == ["hello there", "lost my card, help", "bye"]
    assert labels == ["greet", "card_lost", "goodbye"]
    assert read_banking77(tmp_path, "train") == (texts, labels)


def test_read_intent_csv_takes_an_intent_column(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("intent,text\ngreet,hi\ncard,my card\n", encoding="utf-8")
    assert read_intent_csv(tmp_path, "test") == (["hi", "my card"], ["greet", "card"])


@pytest.mark.parametrize(
    "body",
    ["text,category\nhi,greet\n,card\n", "text,category\nhi,greet\nmy card,\n"],
)
def test_read_intent_csv_rejects_a_row_without_text_or_intent(tmp_path: Path, body: str) -> None:
    (tmp_path / "test.csv").write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=r"test\.csv:3: a row needs `text` and `category`"):
        read_intent_csv(tmp_path, "test")


def test_read_intent_csv_rejects_a_file_without_the_columns(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("sentence,label\nhi,greet\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"test\.csv:2"):
        read_intent_csv(tmp_path, "test")


def test_some_stages_without_an_earlier_run_are_refused_before_any_work(tmp_path: Path) -> None:
    """The report needs every stage; found out after the run, the run's figures were lost."""
    data = tmp_path / "banking77"
    with pytest.raises(SystemExit, match="run all stages once first"):
        intent.main(
            ["--data", str(data), "--stages", "rasa", "--json", str(tmp_path / "none.json")]
        )
