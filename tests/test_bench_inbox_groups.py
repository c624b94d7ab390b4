"""The inbox grouping benchmark's command: its report from a small data set, and refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.inbox_groups import main

TOPICS = [
    "card",
    "pin",
    "transfer",
    "refund",
    "fee",
    "cash",
    "address",
    "phone",
    "statement",
    "loan",
    "travel",
    "savings",
    "limit",
]


def small_data(folder: Path) -> Path:
    """Thirteen intents of fifteen messages, each intent's messages about its own topic."""
    folder.mkdir()
    with (folder / "test.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for topic in TOPICS:
            for number in range(15):
                writer.writerow([f"question {number} about my {topic}", f"{topic}_help"])
    return folder


def test_the_report_names_both_groupings_for_each_data_set(tmp_path: Path) -> None:
    data = small_data(tmp_path / "small")
    out, raw = tmp_path / "inbox.md", tmp_path / "inbox.json"
    main(["--data", str(data), "--draws", "1", "--markdown", str(out), "--json", str(raw)])
    result = json.loads(raw.read_text())
    assert set(result["results"]) == {"project (data/nlu)", "small test"}
    for systems in result["results"].values():
        assert set(systems) == {"product", "tfidf"}
        for figures in systems.values():
            assert 0 < figures["groups_per_message"] <= 1
            assert 1 / 12 <= figures["purity"] <= 1
    report = out.read_text()
    assert "| small test | sentence encoder + TF-IDF" in report
    assert "| small test | TF-IDF alone, bound 0.8" in report


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--draws", "0"], "--draws must be at least 1"), (["--data", "nowhere"], "does not exist")],
)
def test_bad_arguments_are_refused_before_any_work(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(arguments)
    assert message in capsys.readouterr().err
