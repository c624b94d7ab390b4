"""The retrain job's parts that need no training: reading labels from the inbox, the path
without usable labels (as at every fresh demo start), cross-validation figures, the old/new
prediction rows and the call that loads a model into Rasa. A real training and load into a
running server is the end-to-end test's (tests/e2e/test_nlu_retrain.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
import yaml

from bot.console.rasa_client import API_JWT_ALGORITHM
from bot.crm.enums import InboxStatus, JobStatus, JobTrigger, Sender, StaffRole
from bot.crm.store import CRMStore
from bot.crm.store.nlu_inbox import InboxStore
from bot.crm.store.records import MessageRecord
from bot.jobs import retrain
from bot.jobs.retrain import (
    RasaLoadFailed,
    cross_validate,
    load_into_rasa,
    predict,
    prediction_rows,
)
from bot.jobs.runner import JobFailed, run_job
from bot.settings import Settings, load_settings
from bot.training import labels_dir, saved_label_files, write_labels
from tests.e2e.conftest import free_port

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def passthrough(items, **_kwargs):
    return items


def settings_for(tmp_path: Path, rasa_port: int | None = None) -> Settings:
    env = {"CRM_VAR_DIR": str(tmp_path / "var"), "RASA_PORT": str(rasa_port or free_port())}
    return load_settings(env)


def inbox_items(store: CRMStore, texts: list[str]) -> list[int]:
    """One conversation in which the bot answered each customer text; all in the inbox."""
    for number, text in enumerate(texts):
        for offset, sender in enumerate((Sender.CUSTOMER, Sender.BOT)):
            store.conversations.record_message(
                MessageRecord(
                    conversation_id="retrain-c1",
                    event_key=f"retrain-{number}-{offset}",
                    seq=number * 2 + offset,
                    sender=sender,
                    text=text if sender == Sender.CUSTOMER else "an answer",
                    created_at=NOW,
                    intent="compromised_card" if sender == Sender.CUSTOMER else None,
                    confidence=0.65 if sender == Sender.CUSTOMER else None,
                )
            )
    inbox = InboxStore(store.engine)
    inbox.add_from_conversation("retrain-c1")
    return [item["id"] for group in inbox.groups() for item in group["items"]]


def test_without_labels_the_job_trains_nothing_and_says_so(store: CRMStore, tmp_path: Path):
    settings = settings_for(tmp_path)
    run = run_job(store, settings, "retrain", JobTrigger.SETUP)
    assert run["status"] == JobStatus.SUCCEEDED
    assert run["rows"] == {"labels": 0, "new_intents": 0}
    assert run["figures"]["loaded"] is False
    assert run["figures"]["model"] is None
    assert "nothing trained" in run["figures"]["note"]
    assert run["figures"]["label_files"] == []
    assert not any(labels_dir(settings.var_dir).glob("*.yml"))


def test_labels_that_cannot_train_yet_stay_labelled(store: CRMStore, tmp_path: Path):
    """A new intent with one labelled message waits for more; no model, no Rasa call."""
    supervisor = store.staff.create("sup", "a-long-password", StaffRole.SUPERVISOR)
    [item_id] = inbox_items(store, ["do you offer crypto wallets"])
    inbox = InboxStore(store.engine)
    inbox.label(item_id, supervisor.id, "ask_crypto", "We do not offer crypto wallets.")
    settings = settings_for(tmp_path)

    run = run_job(store, settings, "retrain", JobTrigger.CLI)

    assert run["status"] == JobStatus.SUCCEEDED
    assert run["figures"]["labels"] == 1
    assert run["figures"]["labels_used"] == 0
    assert run["figures"]["skipped"] == {"new_intent_needs_examples": [item_id]}
    assert run["figures"]["loaded"] is False
    [group] = inbox.groups(InboxStatus.LABELLED)
    assert [item["id"] for item in group["items"]] == [item_id]


def small_examples() -> list[tuple[str, str]]:
    phrases = {
        "card_arrival": ["where is my card", "my card has not arrived", "card still not here"],
        "change_pin": ["change my pin", "new pin please", "how to reset the pin number"],
        "greet": ["hello", "hi there", "good morning"],
    }
    return [
        (f"{text} {suffix}".strip(), intent)
        for intent, texts in phrases.items()
        for text in texts
        for suffix in ("", "please", "now")
    ]


def test_cross_validation_compares_the_same_folds_without_and_with_labels():
    project = small_examples()
    added = [
        ("how do i swap the secret number on my card", "change_pin"),
        ("do you do crypto", "ask_crypto"),
        ("can i buy bitcoin", "ask_crypto"),
    ]
    figures = cross_validate(project, added, passthrough, folds=3)
    assert figures == cross_validate(project, added, passthrough, folds=3)  # seeded folds
    assert set(figures) == {
        "folds",
        "project_examples",
        "labels",
        "before",
        "after",
        "accuracy_change",
        "macro_f1_change",
    }
    assert (figures["folds"], figures["project_examples"], figures["labels"]) == (3, 27, 3)
    for name in ("before", "after"):
        assert set(figures[name]) == {"accuracy", "macro_f1", "labels_accuracy"}
        assert all(0.0 <= value <= 1.0 for value in figures[name].values())
    # A model without the labels cannot know the new intent: one of three labels at best.
    assert figures["before"]["labels_accuracy"] <= 1 / 3
    assert figures["accuracy_change"] == pytest.approx(
        figures["after"]["accuracy"] - figures["before"]["accuracy"], abs=1e-4
    )
    no_labels = cross_validate(project, [], passthrough, folds=3)
    assert no_labels["before"] == no_labels["after"]
    assert no_labels["after"]["labels_accuracy"] is None


def test_prediction_rows_pair_each_label_with_old_and_new_answers():
    labels = [{"id": 7, "text": "swap my secret number", "intent": "change_pin", "response": None}]
    old = [{"intent": "compromised_card", "confidence": 0.65}]
    new = [{"intent": "change_pin", "confidence": 0.97}]
    assert prediction_rows(labels, old, new) == [
        {
            "id": 7,
            "text": "swap my secret number",
            "label": "change_pin",
            "old": old[0],
            "new": new[0],
            "fixed": True,
        }
    ]


class FakeRasa(BaseHTTPRequestHandler):
    """Answers `PUT /model` as Rasa does (204) and `POST /model/parse` with a fixed intent,
    recording what it was sent."""

    calls: list[dict] = []
    status = 204
    parse_fails_after_load = False

    def do_PUT(self) -> None:  # noqa: N802 (the http.server spelling)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append({"path": self.path, "auth": self.headers["Authorization"], **body})
        self.send_response(self.status)
        self.end_headers()
        if self.status != 204:
            self.wfile.write(b'{"message": "could not load"}')

    def do_POST(self) -> None:  # noqa: N802 (the http.server spelling)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append({"path": self.path, "auth": self.headers["Authorization"], **body})
        if self.parse_fails_after_load and any(c["path"] == "/model" for c in self.calls):
            self.send_response(500)
            self.end_headers()
            return
        reply = json.dumps({"intent": {"name": "change_pin", "confidence": 0.9712}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def fake_rasa() -> Iterator[HTTPServer]:
    FakeRasa.calls, FakeRasa.status, FakeRasa.parse_fails_after_load = [], 204, False
    server = HTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=10)


def test_loading_sends_the_model_path_with_the_api_jwt(fake_rasa: HTTPServer, tmp_path: Path):
    settings = settings_for(tmp_path, fake_rasa.server_port)
    model = tmp_path / "models" / "northwind-0123456789abcdef.tar.gz"
    load_into_rasa(settings, model)
    [call] = FakeRasa.calls
    assert call["path"] == "/model"
    assert call["model_file"] == str(model.resolve())
    token = call["auth"].removeprefix("Bearer ")
    claims = jwt.decode(token, settings.rasa_api_token, algorithms=[API_JWT_ALGORITHM])
    assert claims["user"]["role"] == "admin"


def test_a_refused_load_says_why_and_that_the_model_stays(fake_rasa: HTTPServer, tmp_path: Path):
    FakeRasa.status = 400
    settings = settings_for(tmp_path, fake_rasa.server_port)
    with pytest.raises(RasaLoadFailed, match="HTTP 400.*could not load"):
        load_into_rasa(settings, tmp_path / "northwind-x.tar.gz")


def test_an_unreachable_rasa_fails_clearly(tmp_path: Path):
    settings = settings_for(tmp_path)
    with pytest.raises(RasaLoadFailed, match="not reachable"):
        load_into_rasa(settings, tmp_path / "northwind-x.tar.gz")


def test_predictions_are_the_running_bots_answers(fake_rasa: HTTPServer, tmp_path: Path):
    settings = settings_for(tmp_path, fake_rasa.server_port)
    assert predict(settings, ["swap my secret number"]) == [
        {"intent": "change_pin", "confidence": 0.971}
    ]
    [call] = FakeRasa.calls
    assert (call["path"], call["text"]) == ("/model/parse", "swap my secret number")


def labelled(store: CRMStore, supervisor: int, intents: dict[str, str]) -> list[int]:
    """Inbox items for the texts, each labelled with a domain intent (no response needed)."""
    ids = inbox_items(store, list(intents))
    inbox = InboxStore(store.engine)
    for item_id, intent in zip(ids, intents.values(), strict=True):
        inbox.label(item_id, supervisor, intent, None)
    return ids


def failed_run(store: CRMStore, settings: Settings) -> dict:
    with pytest.raises(JobFailed) as failed:
        run_job(store, settings, "retrain", JobTrigger.CLI)
    return failed.value.run


def earlier_label_files(settings: Settings) -> dict[str, bytes]:
    """Label files an earlier run left (the running model's inputs)."""
    directory = labels_dir(settings.var_dir)
    write_labels(
        [
            {
                "id": 1,
                "text": "my card got stuck in a cash machine",
                "intent": "card_swallowed",
                "response": None,
            }
        ],
        directory,
    )
    return saved_label_files(directory)


def supervisor_id(store: CRMStore) -> int:
    return store.staff.create("sup", "a-long-password", StaffRole.SUPERVISOR).id


TWO_LABELS = {"the plastic never turned up": "card_arrival", "swap my secret digits": "change_pin"}
UNCHANGED = {"accuracy_change": 0.0}
"""Cross-validation figures of labels that neither help nor hurt."""


@pytest.mark.parametrize("failing", ["cross_validate", "ensure_model"])
def test_a_failed_training_puts_the_label_files_back(
    store: CRMStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
):
    settings = settings_for(tmp_path)
    before = earlier_label_files(settings)
    labelled(store, supervisor_id(store), TWO_LABELS)

    def broken(*_args, **_kwargs):
        raise ValueError(f"{failing} broke")

    monkeypatch.setattr(retrain, "cross_validate", lambda *_a, **_k: UNCHANGED)
    monkeypatch.setattr(retrain, failing, broken)
    run = failed_run(store, settings)

    assert run["status"] == JobStatus.FAILED
    assert saved_label_files(labels_dir(settings.var_dir)) == before
    still = InboxStore(store.engine).groups(InboxStatus.LABELLED)
    assert sum(len(group["items"]) for group in still) == 2


def test_a_failed_load_puts_the_label_files_back_and_says_the_old_model_stays(
    store: CRMStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Rasa is down: the next start must not pick a model the running bot never took."""
    settings = settings_for(tmp_path)  # nothing listens on its Rasa port
    before = earlier_label_files(settings)
    labelled(store, supervisor_id(store), TWO_LABELS)
    model = tmp_path / "models" / "northwind-0123456789abcdef.tar.gz"
    monkeypatch.setattr(retrain, "cross_validate", lambda *_a, **_k: UNCHANGED)
    monkeypatch.setattr(retrain, "ensure_model", lambda **_k: model)

    run = failed_run(store, settings)

    assert run["status"] == JobStatus.FAILED
    assert "not reachable" in run["error"]
    assert "label files were put back" in run["error"]
    assert "keep the previous model" in run["error"]
    assert saved_label_files(labels_dir(settings.var_dir)) == before
    assert not InboxStore(store.engine).groups(InboxStatus.TRAINED)


def test_a_label_changed_during_the_run_stays_labelled(
    store: CRMStore, fake_rasa: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The model learned the old label: the item is trained only on what it says now."""
    settings = settings_for(tmp_path, fake_rasa.server_port)
    supervisor = supervisor_id(store)
    kept, changed = labelled(store, supervisor, TWO_LABELS)
    model = tmp_path / "models" / "northwind-0123456789abcdef.tar.gz"
    inbox = InboxStore(store.engine)

    def train_while_relabelling(**_kwargs) -> Path:
        inbox.label(changed, supervisor, "card_arrival", None)
        return model

    monkeypatch.setattr(retrain, "cross_validate", lambda *_a, **_k: UNCHANGED)
    monkeypatch.setattr(retrain, "ensure_model", train_while_relabelling)
    run = run_job(store, settings, "retrain", JobTrigger.CLI)

    assert run["status"] == JobStatus.SUCCEEDED
    assert run["figures"]["loaded"] is True
    assert run["figures"]["marked_trained"] == 1
    [trained] = inbox.groups(InboxStatus.TRAINED)
    assert [item["id"] for item in trained["items"]] == [kept]
    [still] = inbox.groups(InboxStatus.LABELLED)
    assert [(item["id"], item["intent"]) for item in still["items"]] == [(changed, "card_arrival")]


def test_once_the_model_is_loaded_its_label_files_stay(
    store: CRMStore, fake_rasa: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A failure after the load (the comparison's questions) leaves the new files: they are
    the running model's inputs, so the next start picks the same model."""
    FakeRasa.parse_fails_after_load = True
    settings = settings_for(tmp_path, fake_rasa.server_port)
    earlier_label_files(settings)
    labelled(store, supervisor_id(store), TWO_LABELS)
    model = tmp_path / "models" / "northwind-0123456789abcdef.tar.gz"
    monkeypatch.setattr(retrain, "cross_validate", lambda *_a, **_k: UNCHANGED)
    monkeypatch.setattr(retrain, "ensure_model", lambda **_k: model)

    run = run_job(store, settings, "retrain", JobTrigger.CLI)

    assert run["status"] == JobStatus.SUCCEEDED
    assert run["figures"]["loaded"] is True and run["figures"]["predictions"] is None
    assert "HTTP 500" in run["figures"]["predictions_error"]
    assert run["figures"]["marked_trained"] == 2
    written = yaml.safe_load((labels_dir(settings.var_dir) / "nlu.yml").read_text())
    assert {item["intent"] for item in written["nlu"]} == set(TWO_LABELS.values())


def test_labels_that_make_the_bot_worse_are_not_trained_or_loaded(
    store: CRMStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = settings_for(tmp_path)
    before = earlier_label_files(settings)
    labelled(store, supervisor_id(store), TWO_LABELS)
    worse = {
        "before": {"accuracy": 0.91},
        "after": {"accuracy": 0.88},
        "accuracy_change": -0.03,
    }
    monkeypatch.setattr(retrain, "cross_validate", lambda *_a, **_k: worse)

    def never(**_kwargs):
        raise AssertionError("a model the checks refused was trained")

    monkeypatch.setattr(retrain, "ensure_model", never)
    run = failed_run(store, settings)

    assert run["status"] == JobStatus.FAILED
    assert "0.91 -> 0.88" in run["error"] and "running model stays" in run["error"]
    assert saved_label_files(labels_dir(settings.var_dir)) == before
