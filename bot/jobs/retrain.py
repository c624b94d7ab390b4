"""The `retrain` job: supervisors' labelled inbox messages become training data, a new model
is trained and loaded into the running Rasa server, without a restart.

The labels are written under var/ (`bot.training.labels_dir`), never into data/: they are
training inputs like data/, so `crm run` picks the same model at its next start. Figures
compare the intent classifier's k-fold cross-validation without and with the labels (the
project's own classifier, seconds rather than `rasa test nlu`'s minutes) and what the
previous and the new model say of each labelled message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from bot.console.rasa_client import api_jwt
from bot.crm.store.nlu_inbox import InboxStore, TrainingLabel
from bot.jobs.base import JobContext, JobResult
from bot.settings import PROJECT_ROOT, Settings
from bot.training import (
    current_model,
    ensure_model,
    label_files,
    labels_dir,
    restore_label_files,
    saved_label_files,
    write_labels,
)
from nlp.intent import IntentClassifier

FOLDS = 5
LOAD_TIMEOUT_S = 180
"""Rasa loads a model in a few seconds here (spaCy and the graph); the bound leaves room for a
busy machine while still ending a run whose server hangs."""
MAX_PREDICTIONS = 100
"""Labelled messages compared old vs new in the figures: the newest ones when there are more."""

Example = tuple[str, str]
Progress = Callable[..., Iterable[Any]]


MAX_ACCURACY_DROP = 0.02
"""How much worse the cross-validated accuracy on the project's own examples may get before a
retrain refuses to load the model: labels are one supervisor's judgement, and a bot that gets
two points worse at what it already knew costs more than a few messages it learns."""


class RetrainRefused(RuntimeError):
    """The labels would make the bot worse; the message says by how much."""


class RasaLoadFailed(RuntimeError):
    """The running Rasa server did not take the new model; the message says why."""


class Prediction(TypedDict):
    intent: str | None
    confidence: float


def project_examples(root: Path = PROJECT_ROOT) -> list[Example]:
    """(text, intent) of every NLU example in data/, entity annotations read as Rasa does."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(root / "data" / "nlu"))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def _scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float | None]:
    if not truth:
        return {"accuracy": None, "macro_f1": None}
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
    }


def cross_validate(
    project: Sequence[Example],
    added: Sequence[Example],
    progress: Progress,
    folds: int = FOLDS,
) -> dict[str, Any]:
    """Paired k-fold cross-validation of the intent classifier (nlp/intent.py, the component
    config.yml trains): each fold's held-out project examples are predicted by a model
    trained without the labels and by one trained with them, so the change is the labels'
    doing, not a different split. Each label is held out of one fold too (label i in fold
    i mod k): `labels` says how well the labels' messages are read when not trained on."""
    texts = np.array([text for text, _ in project], dtype=object)
    intents = np.array([intent for _, intent in project], dtype=object)
    label_texts = np.array([text for text, _ in added], dtype=object)
    label_intents = np.array([intent for _, intent in added], dtype=object)
    label_fold = np.arange(len(added)) % folds
    predicted = {"before": np.empty_like(intents), "after": np.empty_like(intents)}
    predicted_labels = {
        "before": np.empty_like(label_intents),
        "after": np.empty_like(label_intents),
    }
    splits = StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, intents)
    for fold, (train, held_out) in enumerate(
        progress(splits, total=folds, desc="cross-validation", unit="fold")
    ):
        labels_in, labels_out = label_fold != fold, label_fold == fold
        trained_on = {
            "before": (list(texts[train]), list(intents[train])),
            "after": (
                [*texts[train], *label_texts[labels_in]],
                [*intents[train], *label_intents[labels_in]],
            ),
        }
        for name, (x, y) in trained_on.items():
            model = IntentClassifier().fit(x, y)
            predicted[name][held_out] = model.predict(list(texts[held_out]))
            if labels_out.any():
                predicted_labels[name][labels_out] = model.predict(list(label_texts[labels_out]))
    figures: dict[str, Any] = {
        "folds": folds,
        "project_examples": len(project),
        "labels": len(added),
    }
    for name in ("before", "after"):
        figures[name] = {
            **_scores(list(intents), list(predicted[name])),
            "labels_accuracy": _scores(list(label_intents), list(predicted_labels[name]))[
                "accuracy"
            ],
        }
    for score in ("accuracy", "macro_f1"):
        figures[f"{score}_change"] = round(figures["after"][score] - figures["before"][score], 4)
    return figures


def _call_rasa(settings: Settings, method: str, path: str, body: object) -> Any:
    """One call to the running Rasa server's HTTP API with the console's JWT; RasaLoadFailed
    says what went wrong."""
    url = f"{settings.rasa_url}{path}"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api_jwt(settings.rasa_api_token)}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=LOAD_TIMEOUT_S) as reply:
            return json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode(errors="replace")
        raise RasaLoadFailed(f"Rasa at {url} answered HTTP {error.code} {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RasaLoadFailed(f"Rasa is not reachable at {url} ({reason})") from None


def predict(settings: Settings, texts: Sequence[str]) -> list[Prediction]:
    """What the running bot's whole NLU pipeline (the fallback too) says of each text: asked
    of the Rasa server, so the console never loads a model itself."""
    predictions: list[Prediction] = []
    for text in texts:
        intent = _call_rasa(settings, "POST", "/model/parse", {"text": text})["intent"]
        predictions.append(
            {
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 3),
            }
        )
    return predictions


def prediction_rows(
    labels: Sequence[dict[str, Any]],
    old: Sequence[Prediction],
    new: Sequence[Prediction],
) -> list[dict[str, Any]]:
    """One row per labelled message: its label, and the running bot's answer before and after
    the new model was loaded."""
    return [
        {
            "id": label["id"],
            "text": label["text"],
            "label": label["intent"],
            "old": old[number],
            "new": new[number],
            "fixed": new[number]["intent"] == label["intent"],
        }
        for number, label in enumerate(labels)
    ]


def load_into_rasa(settings: Settings, model: Path) -> None:
    """Make the running Rasa server answer with `model` (its HTTP API, `PUT /model`)."""
    _call_rasa(settings, "PUT", "/model", {"model_file": str(model.resolve())})


class RetrainJob:
    name = "retrain"
    description = (
        "Train on the NLU inbox's labelled messages and load the new model into the running bot."
    )

    def run(self, context: JobContext) -> JobResult:
        """Idempotent: the same labels give the same model (its name is their fingerprint),
        trained once, and loading it again changes nothing.

        The label files are training inputs of every start, so they change only with the
        running model: on any failure (cross-validation, training, a Rasa call) the previous
        files are put back, and the running bot and the next `crm run` keep the previous
        model. A model trained before the failure stays in models/, so the next run loads
        it without training again."""
        directory = labels_dir(context.settings.var_dir)
        previous = current_model(PROJECT_ROOT, labels=directory)
        inbox = InboxStore(context.engine)
        labels = inbox.training_labels()
        saved = saved_label_files(directory)
        try:
            result, used = self._train_and_load(context, labels, directory)
        except BaseException:
            restore_label_files(directory, saved)
            raise
        if used:
            result.figures["previous_model"] = previous.name if previous.exists() else None
            result.figures["marked_trained"] = inbox.mark_trained(used, context.run_id)
        return result

    def _train_and_load(
        self, context: JobContext, labels: list[TrainingLabel], directory: Path
    ) -> tuple[JobResult, list[TrainingLabel]]:
        """Write the labels, train and load; the result and the labels the model learned."""
        export = write_labels(labels, directory)
        figures: dict[str, Any] = {
            "labels": len(labels),
            "labels_used": len(export.used),
            "examples_added": len(export.examples),
            "new_intents": export.new_intents,
            "skipped": export.skipped,
            "label_files": [path.name for path in label_files(directory)],
        }
        rows = {"labels": len(export.used), "new_intents": len(export.new_intents)}
        if not export.used:
            note = "no usable labelled messages: nothing trained, the running model stays"
            figures.update(model=None, loaded=False, note=note)
            return JobResult(rows=rows, figures=figures), []
        checked = cross_validate(project_examples(), export.examples, context.progress)
        figures["cross_validation"] = checked
        if checked["accuracy_change"] < -MAX_ACCURACY_DROP:
            raise RetrainRefused(
                f"with these labels the bot reads its own examples worse: cross-validated "
                f"accuracy {checked['before']['accuracy']} -> {checked['after']['accuracy']}, "
                f"more than {MAX_ACCURACY_DROP:.0%} lower; check the labels in the NLU inbox "
                f"(the running model stays)"
            )
        model = ensure_model(labels=directory)
        used_ids = set(export.used)
        used = [label for label in labels if label["id"] in used_ids]
        compared = used[-MAX_PREDICTIONS:]
        texts = [label["text"] for label in compared]
        try:
            old = predict(context.settings, texts)
            load_into_rasa(context.settings, model)
        except RasaLoadFailed as failed:
            raise RasaLoadFailed(
                f"{failed}; the label files were put back, so the running bot and the next "
                f"`crm run` keep the previous model (the trained {model.name} stays in "
                f"{model.parent}: the next retrain loads it without training again)"
            ) from None
        figures.update(model=model.name, loaded=True)
        try:  # the model is loaded: from here on the new label files are the running ones
            new = predict(context.settings, texts)
            figures["predictions"] = prediction_rows(compared, old, new)
        except RasaLoadFailed as failed:
            figures["predictions"] = None
            figures["predictions_error"] = f"{failed} (asked after the new model was loaded)"
        return JobResult(rows=rows, figures=figures), used
