"""The analytics benchmark end to end at a tiny scale: every query timed, sane numbers.

No timing is asserted (benchmarks are not tests); what is checked is that the report has
every step and query of every filter, that its figures are well-formed, that the rollup
agrees with the raw tables, and that the throwaway database is gone afterwards.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.analytics import TIMESERIES, filters, main
from bench.analytics_data import generate
from bench.analytics_report import BASELINE

QUERIES = {
    "summary",
    *(f"timeseries {name}" for name in TIMESERIES),
    *(f"breakdown by {by}" for by in ("intent", "segment", "channel")),
    "drill-down page 1",
    "drill-down page 2",
    "topics report",
    BASELINE,
}


def test_generated_data_is_shaped_like_the_issue() -> None:
    data = generate(conversations=400, messages_per_conversation=10, seed=3)
    tables = data.tables
    messages = tables["messages"]
    assert len(tables["conversations"]) == 400
    assert 3_000 < len(messages) < 5_000
    assert set(messages["sender"]) == {"customer", "bot", "agent"}
    customer = messages[messages["sender"] == "customer"]
    assert customer["intent"].notna().all() and customer["sentiment"].between(-1, 1).all()
    assert (customer["intent"] == "nlu_fallback").any()
    assert 0.08 < len(tables["tickets"]) / 400 < 0.25
    assert set(tables["tickets"]["status"]) <= {"open", "claimed", "resolved"}
    handoffs = tables["tickets"]
    assert (handoffs["due_at"].dropna() > handoffs["created_at"][handoffs["due_at"].notna()]).all()
    assert tables["messages"]["event_key"].is_unique
    assert tables["conversations"]["started_at"].max() <= np.datetime64(
        data.now.replace(tzinfo=None)
    )


def test_tiny_run_reports_every_query(tmp_path: Path) -> None:
    sqlite = tmp_path / "analytics.sqlite3"
    result = main(
        [
            "--database", "sqlite", "--conversations", "200", "--repeats", "2",
            "--baseline-repeats", "1", "--new-messages", "40", "--sqlite", str(sqlite),
            "--md", str(tmp_path / "analytics.md"), "--json", str(tmp_path / "analytics.json"),
        ]
    )  # fmt: skip
    run = result["databases"]["sqlite"]
    jobs = run["jobs"]
    assert jobs["rollup, first full build"]["conversations"] == 200
    assert jobs["rollup, nothing changed"]["conversations"] == 0
    assert jobs["rollup, after 40 new messages"]["conversations"] >= 4
    assert all(job["s"] >= 0 for job in jobs.values())
    labels = list(filters(np.datetime64("2026-11-30").astype(object)))
    assert list(run["queries"]) == [*labels, "no filter"]
    for label in labels:
        rows = run["queries"][label]
        assert set(rows) == QUERIES
        for row in rows.values():
            assert 0 <= row["p50_ms"] <= row["p95_ms"] < 60_000
        assert rows["summary"]["runs"] == 2 and rows[BASELINE]["runs"] == 1
        assert all(figure["agree"] for figure in run["agreement"][label].values())
    assert set(run["queries"]["no filter"]) == {
        "quality flags list (open)",
        "NLU inbox groups (open)",
    }
    assert run["messages"] == result["data"]["messages"] + 40
    report = (tmp_path / "analytics.md").read_text()
    assert report.startswith("## Supervisor analytics at scale")
    assert all(label in report for label in labels)
    assert not sqlite.exists()
