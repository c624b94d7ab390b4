"""Importing labelled history for training, and the fingerprint that decides when to retrain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import nlp.encoder
from bot.settings import PROJECT_ROOT
from bot.training import (
    MIN_NEW_INTENT_EXAMPLES,
    ImportFileError,
    convert_import,
    current_model,
    existing_examples,
    fingerprint,
    label_files,
    merged_domain,
    model_path,
    restore_label_files,
    saved_label_files,
    write_labels,
)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def imported_examples(path: Path) -> dict[str, list[str]]:
    nlu = yaml.safe_load(path.read_text())["nlu"]
    return {item["intent"]: item["examples"].strip().split("\n") for item in nlu}


def test_import_keeps_known_intents_and_reports_the_rest(tmp_path: Path) -> None:
    own_example = next(iter(existing_examples()))
    source = write_csv(
        tmp_path / "history.csv",
        "text,intent\n"
        "my  card has still not come,card_arrival\n"
        '"I need the app in Klingon, please",unknown_intent\n'
        ",card_arrival\n"
        "pay [me](person) back,request_refund\n"
        f"{own_example},greet\n"
        "my card has still not come,card_arrival\n"
        "walk me through swapping the pin on my debit card,change_pin\n",
    )
    report = convert_import(source, tmp_path / "out.yml")
    assert imported_examples(tmp_path / "out.yml") == {
        "card_arrival": ["- my card has still not come"],
        "change_pin": ["- walk me through swapping the pin on my debit card"],
    }
    assert dict(report.imported) == {"card_arrival": 1, "change_pin": 1}
    assert dict(report.skipped_unknown_intent) == {"unknown_intent": 1}
    assert report.skipped_invalid == 2
    assert report.skipped_duplicate == 2
    assert any("unknown_intent" in line for line in report.lines())


def test_banking77_header_is_accepted(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "b77.csv", "text,category\nwhen will my card arrive?,card_arrival\n"
    )
    assert dict(convert_import(source, tmp_path / "out.yml").imported) == {"card_arrival": 1}


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("utterance,label\nhi,greet\n", "utf-8", "must have a header"),
        ("", "utf-8", "found: nothing"),
        ("text,intent\ncafé,greet\n", "latin-1", "not UTF-8"),
    ],
)
def test_unusable_files_get_a_clear_error(tmp_path: Path, content, encoding, message) -> None:
    source = write_csv(tmp_path / "bad.csv", content, encoding)
    with pytest.raises(ImportFileError, match=message):
        convert_import(source, tmp_path / "out.yml")


def test_a_missing_file_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read"):
        convert_import(tmp_path / "absent.csv", tmp_path / "out.yml")


def test_the_fingerprint_follows_the_training_inputs(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for name in ("config.yml", "domain.yml", "data", "nlp"):
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            root.mkdir(exist_ok=True)
            shutil.copy(source, root / name)
    original = fingerprint(root)
    assert fingerprint(root) == original
    (root / "README.md").write_text("not a training input")
    assert fingerprint(root) == original
    nlu_file = next((root / "data" / "nlu").glob("*.yml"))
    nlu_file.write_text(nlu_file.read_text() + "\n")
    assert fingerprint(root) != original
    with_data_change = fingerprint(root)
    (root / "nlp" / "__pycache__").mkdir(exist_ok=True)
    (root / "nlp" / "__pycache__" / "intent.cpython-310.pyc").write_bytes(b"compiled")
    assert fingerprint(root) == with_data_change
    classifier = root / "nlp" / "intent.py"
    classifier.write_text(classifier.read_text() + "\n")
    assert fingerprint(root) != with_data_change
    extra = write_csv(tmp_path / "extra.yml", "version: '3.1'\n")
    assert fingerprint(root, [extra]) != fingerprint(root)


def test_the_fingerprint_follows_the_sentence_encoders(monkeypatch) -> None:
    """A new encoder package (or onnxruntime) makes Rasa refuse the model: retrain it."""
    before = fingerprint()
    monkeypatch.setattr(nlp.encoder, "encoder_id", lambda: "another-encoder")
    assert fingerprint() != before


def label(label_id: int, text: str, intent: str, response: str | None = None) -> dict:
    return {"id": label_id, "text": text, "intent": intent, "response": response}


def test_labels_become_training_data_outside_data(tmp_path: Path) -> None:
    own_text, own_intent = next(iter(existing_examples().items()))
    other_intent = "greet" if own_intent != "greet" else "goodbye"
    labels = [
        label(1, "how do I swap the  secret number on my card", "change_pin"),
        label(2, own_text, own_intent),
        label(3, own_text, other_intent),
        label(4, "do you do crypto", "ask_crypto", "We do not offer crypto."),
        label(5, "can I buy bitcoin", "ask_crypto"),
        label(6, "do you sell ethereum", "ask_crypto", "No crypto here, sorry."),
        label(7, "send [me](person) money", "change_pin"),
        label(8, "what is a sticker", "ask_sticker", "Stickers come with every card."),
        label(9, "is there a podcast", "ask_podcast"),
        label(10, "shall I dance", "Dance", "No."),
    ]
    export = write_labels(labels, tmp_path / "retrain")

    assert export.used == [1, 2, 4, 5, 6]
    assert export.examples == [
        ("how do I swap the secret number on my card", "change_pin"),
        ("do you do crypto", "ask_crypto"),
        ("can I buy bitcoin", "ask_crypto"),
        ("do you sell ethereum", "ask_crypto"),
    ]
    assert export.new_intents == {"ask_crypto": "No crypto here, sorry."}
    assert export.skipped == {
        "conflicting_example": [3],
        "unusable_text": [7],
        "new_intent_needs_examples": [8],
        "new_intent_without_response": [9],
        "invalid_intent_name": [10],
    }
    files = {
        path.name: yaml.safe_load(path.read_text()) for path in (tmp_path / "retrain").iterdir()
    }
    assert set(files) == {"nlu.yml", "domain.yml", "rules.yml"}
    assert imported_examples(tmp_path / "retrain" / "nlu.yml") == {
        "ask_crypto": ["- do you do crypto", "- can I buy bitcoin", "- do you sell ethereum"],
        "change_pin": ["- how do I swap the secret number on my card"],
    }
    assert files["domain.yml"]["intents"] == ["ask_crypto"]
    assert files["domain.yml"]["responses"] == {
        "utter_ask_crypto": [{"text": "No crypto here, sorry."}]
    }
    assert files["rules.yml"]["rules"][0]["steps"] == [
        {"intent": "ask_crypto"},
        {"action": "utter_ask_crypto"},
    ]

    assert write_labels([], tmp_path / "retrain").used == []
    assert list((tmp_path / "retrain").iterdir()) == []


def test_rasa_reads_the_labels_with_the_project_domain_merged(tmp_path: Path) -> None:
    """What `rasa train` gets: domain.yml with the fragment, data/ with the labels' files."""
    from rasa.shared.importers.importer import TrainingDataImporter

    crypto = [f"do you do crypto {n}" for n in range(MIN_NEW_INTENT_EXAMPLES)]
    labels = [label(n, text, "ask_crypto", "No crypto.") for n, text in enumerate(crypto)]
    directory = tmp_path / "retrain"
    write_labels(labels, directory)
    files = label_files(directory)
    fragments = [path for path in files if path.name == "domain.yml"]
    with merged_domain(PROJECT_ROOT, fragments) as domain:
        importer = TrainingDataImporter.load_from_config(
            str(PROJECT_ROOT / "config.yml"),
            str(domain),
            [str(PROJECT_ROOT / "data"), *(str(p) for p in files if p not in fragments)],
        )
        merged = importer.get_domain()
        stories = importer.get_stories()
        nlu = importer.get_nlu_data()
    assert not domain.exists()  # the merged folder was temporary
    assert "ask_crypto" in merged.intents and "greet" in merged.intents
    assert merged.responses["utter_ask_crypto"] == [{"text": "No crypto."}]
    assert "utter_greet" in merged.responses or "action_greet" in merged.user_actions
    [rule] = [
        [getattr(e, "intent_name", None) or getattr(e, "action_name", None) for e in step.events]
        for step in stories.story_steps
        if any(getattr(e, "intent_name", None) == "ask_crypto" for e in step.events)
    ]
    assert rule[rule.index("ask_crypto") + 1] == "utter_ask_crypto"
    assert {m.get("text") for m in nlu.intent_examples if m.get("intent") == "ask_crypto"} == set(
        crypto
    )


def test_the_model_follows_the_labels(tmp_path: Path) -> None:
    directory = tmp_path / "retrain"
    before = current_model(labels=directory)
    write_labels([label(1, "how do I swap the secret number on my card", "change_pin")], directory)
    after = current_model(labels=directory)
    assert after != before
    assert after == model_path(PROJECT_ROOT / "models", fingerprint(extra=label_files(directory)))
    write_labels([], directory)
    assert current_model(labels=directory) == before == current_model()


def test_label_files_are_put_back_as_they_were(tmp_path: Path) -> None:
    """What the retrain job does when a training fails: the inputs of the last good model."""
    directory = tmp_path / "retrain"
    write_labels([label(1, "how do I swap the secret number on my card", "change_pin")], directory)
    saved = saved_label_files(directory)
    crypto = [label(n, f"do you do crypto {n}", "ask_crypto", "No.") for n in range(2, 5)]
    write_labels(crypto, directory)
    assert len(label_files(directory)) == 3
    restore_label_files(directory, saved)
    assert saved_label_files(directory) == saved and [p.name for p in label_files(directory)] == [
        "nlu.yml"
    ]


def test_a_new_intent_name_with_a_trailing_newline_is_invalid(tmp_path: Path) -> None:
    """`$` matches before a final newline: the whole name must match, not a prefix."""
    labels = [
        label(n, f"do you sell {thing}", "ask_crypto\n", "No.")
        for n, thing in enumerate(("bitcoin", "ethereum", "dogecoin"), start=1)
    ]

    export = write_labels(labels, tmp_path / "retrain")

    assert export.used == []
    assert export.skipped == {"invalid_intent_name": [1, 2, 3]}
