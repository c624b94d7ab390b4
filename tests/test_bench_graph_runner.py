"""The graph-runner benchmark's bookkeeping: both runners see every item, first in turn."""

from __future__ import annotations

from bench.graph_runner import alternating, markdown


def test_every_item_goes_through_both_calls_and_the_first_alternates() -> None:
    seen: list[tuple[str, int]] = []
    calls = [lambda item: seen.append(("a", item)), lambda item: seen.append(("b", item))]
    spent = alternating(calls, ["a", "b"], [0, 1, 2], "test")
    assert seen == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    assert {name: len(ms) for name, ms in spent.items()} == {"a": 3, "b": 3}
    assert all(ms >= 0 for times in spent.values() for ms in times)


def test_the_report_gives_each_call_and_the_ratio_to_rasas_runner() -> None:
    figures = {"dask": {"p50_ms": 4.0, "p95_ms": 8.0}, "ours": {"p50_ms": 3.0, "p95_ms": 6.0}}
    result = {
        "machine": "2 cores",
        "load_average_at_start": 0.5,
        "messages": 10,
        "predictions": 20,
        "parse": figures,
        "predict": figures,
        "runners": ["dask", "ours"],
    }
    report = markdown(result, "python -m bench.graph_runner")
    assert "| `Agent.parse_message` | 4.00 / 8.00 | 3.00 / 6.00 | 0.75, 0.75 |" in report
    assert "| next-action prediction | 4.00 / 8.00 | 3.00 / 6.00 | 0.75, 0.75 |" in report
