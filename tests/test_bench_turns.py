"""bench.turns' pure logic: figures, position buckets, /proc parsing, scripts, the report.

No servers are started and no timing is asserted: the runs themselves are the benchmark.
"""

from __future__ import annotations

import math
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import redis

from bench.product import Product
from bench.turns import product_env, rasa_processes, summary
from bench.turns_checks import crm_check, log_problems
from bench.turns_figures import (
    CONNECTION,
    TIMEOUT,
    Sample,
    by_position,
    error_kind,
    errors_by_kind,
    last_to_fifth,
    load_figures,
    median_over,
    parent_of,
    percentiles,
    position_buckets,
    process_tree,
    ratio,
    service_pids,
    tree_rss_mb,
    vm_rss_kb,
)
from bench.turns_load import Budget, fit, loopback
from bench.turns_report import markdown
from bench.turns_scripts import (
    CARD_QUESTIONS,
    FEE_QUESTIONS,
    GOODBYES,
    GREETINGS,
    LONG_PRODUCT,
    LONG_STOCK,
    PRODUCT_SCRIPTS,
    STOCK_SCRIPTS,
    THANKS,
    TRANSFER_QUESTIONS,
    long_conversation,
    script_for,
)
from bot.rasa_plugins.limits import check_sender, check_text
from nlp.pii import redact_text


def sample(position: int = 1, seconds: float = 0.1, status: int | str = 200) -> Sample:
    return Sample("c", position, "hi", 0.0, seconds, status, 1)


def test_percentiles_interpolate_like_numpy() -> None:
    figures = percentiles([float(n) for n in range(1, 101)])
    assert figures["p50_ms"] == pytest.approx(50.5)
    assert figures["p95_ms"] == pytest.approx(95.05)
    assert figures["p99_ms"] == pytest.approx(99.01)


def test_percentiles_of_nothing_are_nan() -> None:
    assert all(math.isnan(v) for v in percentiles([]).values())


def test_error_kinds() -> None:
    assert error_kind(200) is None
    assert error_kind(429) == "429"
    assert error_kind(503) == "5xx"
    assert error_kind(TIMEOUT) == "timeout"
    assert error_kind(CONNECTION) == "connection"
    assert error_kind(400) == "other"
    assert error_kind("refused: no_session") == "other"
    samples = [sample(status=s) for s in (200, 429, 429, 500, TIMEOUT)]
    assert errors_by_kind(samples) == {"429": 2, "5xx": 1, "timeout": 1}


def test_load_figures_count_only_answered_turns() -> None:
    samples = [sample(seconds=0.1), sample(seconds=0.3), sample(seconds=9.0, status=TIMEOUT)]
    samples.append(Sample("c", 4, "ok", 0.0, 0.2, 200, 0))
    figures = load_figures(samples, window_s=2.0)
    assert figures["sent"] == 4
    assert figures["answered"] == 3
    assert figures["errors"] == 1
    assert figures["answered_without_reply"] == 1
    assert figures["messages_per_s"] == pytest.approx(1.5)
    assert figures["p50_ms"] == pytest.approx(200.0)  # the timeout's 9 s is not a latency


def test_position_buckets_of_200_turns() -> None:
    labels = [(label, first, last) for label, first, last in position_buckets(200)]
    assert labels == [
        ("1-10", 1, 10),
        ("5 (3-7)", 3, 7),
        ("50 (48-52)", 48, 52),
        ("100 (98-102)", 98, 102),
        ("150 (148-152)", 148, 152),
        ("190-200", 190, 200),
    ]


def test_position_buckets_of_a_short_conversation_skip_what_it_does_not_reach() -> None:
    assert [label for label, _, _ in position_buckets(60)] == [
        "1-10",
        "5 (3-7)",
        "50-60",
    ]
    assert [label for label, _, _ in position_buckets(100)][-2:] == ["50 (48-52)", "90-100"]


def test_by_position_medians_and_ratio() -> None:
    samples = [sample(position=n, seconds=n / 1000) for n in range(1, 201)]
    samples.append(sample(position=5, seconds=99.0, status=TIMEOUT))  # not answered: left out
    rows = {r["bucket"]: r for r in by_position(samples, 200)}
    assert rows["5 (3-7)"]["median_ms"] == pytest.approx(5.0)
    assert rows["5 (3-7)"]["n"] == 5
    assert rows["190-200"]["median_ms"] == pytest.approx(195.0)
    assert last_to_fifth(by_position(samples, 200)) == pytest.approx(39.0)


def test_ratio_and_median_over_rounds_ignore_nan() -> None:
    assert ratio(3.0, 2.0) == pytest.approx(1.5)
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 1.0))
    rounds = [{"x": 1.0}, {"x": math.nan}, {"x": 5.0}, {"x": 2.0}]
    assert median_over(rounds, "x") == pytest.approx(2.0)


def test_vm_rss_and_parent_parsing() -> None:
    status = "Name:\tpython\nVmPeak:\t 900 kB\nVmRSS:\t  123456 kB\nThreads:\t4\n"
    assert vm_rss_kb(status) == 123456
    assert vm_rss_kb("Name:\tzombie\nState:\tZ (zombie)\n") == 0
    assert parent_of("42 (rasa run (x) y) S 17 42 42 0 -1") == 17


def test_process_tree_and_memory_from_a_fake_proc(tmp_path: Path) -> None:
    def process(pid: int, parent: int, rss_kb: int) -> None:
        folder = tmp_path / str(pid)
        folder.mkdir()
        (folder / "stat").write_text(f"{pid} (py thon) S {parent} 1 1 0")
        (folder / "status").write_text(f"Name:\tx\nVmRSS:\t{rss_kb} kB\n")

    process(10, 1, 1024)
    process(11, 10, 2048)
    process(12, 11, 1024)
    process(20, 1, 99999)
    (tmp_path / "self").mkdir()
    assert sorted(process_tree(10, tmp_path)) == [10, 11, 12]
    assert tree_rss_mb(10, tmp_path) == pytest.approx(4.0)
    assert tree_rss_mb(12, tmp_path) == pytest.approx(1.0)


def test_service_pids_from_the_launcher_log() -> None:
    log = "starting\nBENCH-PIDS actions=11 rasa=12 console=13\nBENCH-READY\n"
    assert service_pids(log) == {"actions": 11, "rasa": 12, "console": 13}
    assert service_pids("nothing yet\n") == {}


def test_each_customer_has_its_own_loopback_address() -> None:
    addresses = [loopback(n) for n in range(300)]
    assert addresses[0] == "127.0.0.2"
    assert addresses[253] == "127.0.0.255"
    assert addresses[254] == "127.0.1.0"
    assert len(set(addresses)) == 300
    assert all(a.startswith("127.") for a in addresses)


def test_budget_stops_at_max_messages_and_at_the_deadline() -> None:
    budget = Budget(time.monotonic() + 60, max_messages=2)
    assert [budget.take() for _ in range(3)] == [True, True, False]
    assert not Budget(time.monotonic() - 1).take()


def test_fit_cuts_or_repeats_a_script() -> None:
    assert fit(("a", "b", "c"), 2) == ("a", "b")
    assert fit(("a", "b"), 5) == ("a", "b", "a", "b", "a")


@pytest.mark.parametrize("scripts", [PRODUCT_SCRIPTS, STOCK_SCRIPTS])
def test_scripts_are_well_formed(scripts: tuple[tuple[str, ...], ...]) -> None:
    assert len(scripts) >= 4
    assert all(len(script) == 6 for script in scripts)
    assert len(set(scripts)) == len(scripts)  # customers do vary
    for script in scripts:
        for text in script:
            assert check_text(text) == text  # the channels accept it as it is
            assert redact_text(text) == text  # no personal data: the CRM stores it as sent


def test_product_scripts_follow_the_conversation_shape() -> None:
    parts = (GREETINGS, CARD_QUESTIONS, FEE_QUESTIONS, TRANSFER_QUESTIONS, THANKS, GOODBYES)
    for script in PRODUCT_SCRIPTS:
        assert all(text in part for text, part in zip(script, parts, strict=True))
    for position in range(6):  # every turn of the conversation is worded in several ways
        assert len({script[position] for script in PRODUCT_SCRIPTS}) == 4


def test_long_conversations_stay_in_one_session() -> None:
    for script in (LONG_PRODUCT, LONG_STOCK):
        messages = long_conversation(script, 200)
        assert len(messages) == 200
        assert messages[: len(script)] == list(script)
        for text in set(messages):
            assert check_text(text) == text
            lowered = text.lower()
            assert "bye" not in lowered and "person" not in lowered and "human" not in lowered
            assert "restart" not in lowered and "stop" not in lowered


def test_script_for_starts_customers_at_different_scripts() -> None:
    firsts = {script_for(PRODUCT_SCRIPTS, customer, 0) for customer in range(8)}
    assert len(firsts) == 8
    assert script_for(PRODUCT_SCRIPTS, 0, 1) == PRODUCT_SCRIPTS[1]
    check_sender("turns-20261130T120000-r0-p-c015-003")


def figures(msgs: float, p95: float) -> dict:
    return {
        "sent": 100,
        "answered": 99,
        "window_s": 10.0,
        "messages_per_s": msgs,
        "p50_ms": 100.0,
        "p95_ms": p95,
        "p99_ms": p95 * 1.5,
        "errors": 1,
        "errors_by_kind": {"429": 1},
        "memory_peak_mb": {"rasa": 500.0},
        "memory_mb": 500.0,
    }


def result() -> dict:
    medians = {
        "answered": 99,
        "messages_per_s": 8.0,
        "p50_ms": 100.0,
        "p95_ms": 400.0,
        "p99_ms": 600.0,
        "errors": 1,
        "memory_mb": 500.0,
    }
    return {
        "command": "python -m bench.turns --rounds 1",
        "started": "20261130T120000",
        "machine": "CPU, 2 cores, Python 3.10",
        "load_average": [1.0, 0.5, 0.25],
        "rasa": "3.6.21",
        "settings": {
            "customers": 16,
            "turns": 6,
            "duration": 20.0,
            "max_messages": None,
            "timeout": 30.0,
            "rounds": 1,
            "long": 200,
        },
        "notes": [],
        "commit": "0123456789abcdef",
        "changed": ["bot/runner.py"],
        "model": "northwind-x.tar.gz",
        "stock_model": "stock/models/y.tar.gz",
        "processes": {"product": {"rasa": 12}, "stock": {"rasa": 30}},
        "rounds": [
            {
                "order": ["product", "stock"],
                "product": {"rest": figures(4.0, 800.0)},
                "stock": {"rest": figures(16.0, 200.0)},
            }
        ],
        "summary": {
            "rest": {
                "product": {**medians, "messages_per_s": 4.0, "p95_ms": 800.0},
                "stock": {**medians, "messages_per_s": 16.0, "p95_ms": 200.0},
                "ratio": {"messages_per_s": 0.25, "p50_ms": 1.0, "p95_ms": 4.0, "memory_mb": 1.0},
            }
        },
        "long": {
            name: {
                "buckets": by_position([sample(n, n / 1000) for n in range(1, 201)], 200),
                "last_to_fifth": 39.0,
                "answered": 200,
                "errors_by_kind": {},
            }
            for name in ("product", "stock")
        },
        "crm": {
            "sent": 300,
            "expected": 299,
            "stored": 299,
            "lost": 0,
            "duplicated": 0,
            "unexpected": 0,
            "out_of_order": 0,
            "waited_s": 0.0,
        },
        "logs": {
            "product": {"tracebacks": 2, "error_lines": 2, "exceptions": {"ServerError: x": 2}},
            "stock": {"tracebacks": 0, "error_lines": 0, "exceptions": {}},
        },
        "var_dir": "var/bench/turns/x",
    }


def test_report_shows_ratios_rounds_long_mode_and_crm() -> None:
    text = markdown(result())
    assert "Command: `python -m bench.turns --rounds 1`" in text
    assert "load average 1.00, 0.50, 0.25" in text
    assert "| throughput (answered messages/s) | 4.0 | 16.0 | 0.25 |" in text
    assert "| p95 latency (ms) | 800 | 200 | 4.00 |" in text
    assert "- product: 2 tracebacks, 2 ERROR lines (2× `ServerError: x`)" in text
    assert "- stock: 0 tracebacks, 0 ERROR lines\n" in text
    row = "| 1 | product | rest | 100 | 99 | 10.0 | 4.0 | 100 / 800 / 1200 | 429: 1 | 500 |"
    assert row in text
    assert "| 190-200 | 195 | 11 | 195 | 11 |" in text
    assert "**39.00**" in text
    assert "| 300 | 299 | 299 | 0 | 0 | 0 | 0 |" in text
    assert (
        "uncommitted changes to 1 files outside bench/, tests/ and docs/ (`bot/runner.py`)" in text
    )
    assert "| product | rasa | 12 | 500 |" in text


def test_report_without_long_mode_or_profile_has_no_such_section() -> None:
    data = result()
    del data["long"]
    text = markdown(data)
    assert "### One long conversation" not in text
    assert "py-spy" not in text
    assert "| 300 | 299 | 299 | 0 | 0 | 0 | 0 |" in text


def test_log_problems_group_tracebacks_by_exception(tmp_path: Path) -> None:
    log = tmp_path / "product.log"
    log.write_text(
        "[ERROR] Exception occurred while handling uri: 'ws://x'\n"
        "Traceback (most recent call last):\n"
        '  File "handle_request", line 124, in handle_request\n'
        "sanic.exceptions.ServerError: Invalid response type None\n"
        "INFO fine\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in f\n'
        "    raise KeyError('k')\n"
        "KeyError: 'k'\n"
        "[ERROR] Exception occurred while handling uri: 'ws://y'\n"
        "Traceback (most recent call last):\n"
        '  File "handle_request", line 124, in handle_request\n'
        "sanic.exceptions.ServerError: Invalid response type None\n"
    )
    problems = log_problems(log)
    assert problems["tracebacks"] == 3
    assert problems["error_lines"] == 2
    assert problems["exceptions"] == {
        "sanic.exceptions.ServerError: Invalid response type None": 2,
        "KeyError: 'k'": 1,
    }
    assert log_problems(tmp_path / "missing.log")["tracebacks"] == 0


def test_crm_check_expects_answered_messages_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "crm.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id TEXT, sender TEXT,"
        " text TEXT, seq REAL)"
    )
    rows = [
        ("a", "customer", "hi", 1.0),
        ("a", "bot", "Hello!", 2.0),
        ("a", "customer", "bye", 3.0),
        ("b", "customer", "hi", 1.0),
        ("b", "customer", "hi", 2.0),  # stored twice
        ("other", "customer", "not the bench's", 1.0),
    ]
    connection.executemany(
        "INSERT INTO messages (conversation_id, sender, text, seq) VALUES (?, ?, ?, ?)", rows
    )
    connection.commit()
    connection.close()
    monkeypatch.setattr("bench.turns_checks.CRM_WAIT_S", 0.0)
    product = Product("p", "", "", f"sqlite:///{database}", admin_password=None)
    samples = [
        Sample("a", 1, "hi", 0.0, 0.1, 200, 1),
        Sample("a", 2, "bye", 0.0, 0.1, 200, 1),
        Sample("b", 1, "hi", 0.0, 0.1, 200, 1),
        Sample("c", 1, "where is my card", 0.0, 30.0, TIMEOUT, 0),  # not answered
        Sample("c", 2, "thanks", 0.0, 0.1, 200, 1),  # answered, never stored
        Sample("(not connected)", 0, "", 0.0, 0.0, CONNECTION, 0),  # no message was sent
    ]
    figures = crm_check(product, samples)
    assert figures["sent"] == 5
    assert figures["expected"] == 4
    assert figures["stored"] == 4
    assert figures["lost"] == 1
    assert figures["duplicated"] == 1
    assert figures["unexpected"] == 0


def test_summary_takes_medians_over_rounds_then_the_ratio() -> None:
    rounds = [
        {"order": ["product", "stock"], "product": {"rest": figures(m, p)}, "stock": {"rest": s}}
        for m, p, s in (
            (4.0, 800.0, figures(16.0, 200.0)),
            (6.0, 600.0, figures(12.0, 300.0)),
            (5.0, 9000.0, figures(10.0, 100.0)),
        )
    ]
    out = summary(rounds, ["rest"])["rest"]
    assert out["product"]["messages_per_s"] == pytest.approx(5.0)
    assert out["stock"]["messages_per_s"] == pytest.approx(12.0)
    assert out["ratio"]["messages_per_s"] == pytest.approx(5.0 / 12.0)
    assert out["ratio"]["p95_ms"] == pytest.approx(800.0 / 200.0)
    assert "errors" not in out["ratio"]


def test_report_gives_the_training_time_only_when_it_was_measured() -> None:
    data = result()
    assert "Training the whole bot" not in markdown(data)
    data["train_s"] = 61.4
    assert "no model and no cached component reused" in markdown(data)
    assert ": 61 s." in markdown(data)


def test_the_profile_samples_each_rasa_worker_or_the_lone_server() -> None:
    lone = subprocess.Popen(["sleep", "30"])
    master = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        assert rasa_processes("rasa", lone.pid) == {"rasa": lone.pid}
        deadline = time.monotonic() + 5
        while len(workers := rasa_processes("rasa", master.pid)) < 2:
            assert time.monotonic() < deadline, workers
            time.sleep(0.05)
        assert set(workers) == {"rasa-worker1", "rasa-worker2"}
        assert master.pid not in workers.values()
    finally:
        for process in (lone, master):
            process.kill()
            process.wait()


def test_the_product_runs_as_make_run_starts_it_unless_told_otherwise() -> None:
    assert product_env("none", None) == {"CRM_JOB_SCHEDULE": "off"}
    assert product_env("none", 1) == {"CRM_JOB_SCHEDULE": "off", "CRM_RASA_WORKERS": "1"}
    url = "redis://127.0.0.1:6379/9"  # a database no other test or bench uses
    left_over = redis.Redis.from_url(url)
    left_over.set("crm:lock:left-over", "1")
    assert product_env(url, None) == {"CRM_JOB_SCHEDULE": "off", "CRM_REDIS_URL": url}
    assert left_over.dbsize() == 0, "no lock of an earlier run is left to wait on"
    left_over.close()
