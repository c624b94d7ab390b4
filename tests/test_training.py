"""Importing labelled history for training, and the fingerprint that decides when to retrain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from bot.training import ImportFileError, convert_import, existing_examples, fingerprint


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
    for name in ("config.yml", "domain.yml", "data"):
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
    extra = write_csv(tmp_path / "extra.yml", "version: '3.1'\n")
    assert fingerprint(root, [extra]) != fingerprint(root)
