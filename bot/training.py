"""Trains the Rasa model only when its inputs changed, optionally with imported labelled history
and the supervisors' labels (the `retrain` job writes them under var/, never into data/)."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TypedDict

import yaml

from bot.settings import PROJECT_ROOT

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")
MODEL_CODE = "nlp"
"""The components' own code: a model pickled by older code must not be reused after it changes."""
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" inside examples as annotations.
ENTITY_MARKUP = re.compile(r"\[[^\]]+\](\(|\{|\[)")
TEXT_COLUMN = "text"
INTENT_COLUMNS = ("intent", "category")
INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
MIN_NEW_INTENT_EXAMPLES = 3
"""A new intent trains once it has this many labelled messages: fewer cannot teach the
classifier a meaning of its own, and its confidences could not be calibrated on held-out
folds (nlp/intent.py `_fit_scale` leaves such an intent out of the calibration)."""
LABELS_NLU, LABELS_RULES, LABELS_DOMAIN = "nlu.yml", "rules.yml", "domain.yml"


class ImportFileError(ValueError):
    """The import file cannot be used; the message says why."""


@dataclass
class ImportReport:
    imported: Counter = field(default_factory=Counter)
    skipped_unknown_intent: Counter = field(default_factory=Counter)
    skipped_invalid: int = 0
    skipped_duplicate: int = 0

    def lines(self) -> list[str]:
        lines = [
            f"imported {sum(self.imported.values())} examples for {len(self.imported)} intents"
        ]
        if self.skipped_unknown_intent:
            names = ", ".join(sorted(self.skipped_unknown_intent))
            lines.append(
                f"skipped {sum(self.skipped_unknown_intent.values())} examples of intents the "
                f"domain does not define: {names}"
            )
        if self.skipped_invalid:
            lines.append(f"skipped {self.skipped_invalid} empty or unreadable rows")
        if self.skipped_duplicate:
            lines.append(f"skipped {self.skipped_duplicate} duplicate or conflicting examples")
        return lines


class Label(TypedDict):
    """A supervisor's label of an inbox message (`InboxStore.training_labels`)."""

    id: int
    text: str
    intent: str
    response: str | None


@dataclass
class LabelExport:
    """What `write_labels` made of the labels: the ids trained on, and why others were not."""

    used: list[int] = field(default_factory=list)
    examples: list[tuple[str, str]] = field(default_factory=list)
    """(text, intent) pairs added to the NLU data: labels the project's data lacks."""
    new_intents: dict[str, str] = field(default_factory=dict)
    """Each new intent and the answer its rule gives (`utter_<intent>`)."""
    skipped: dict[str, list[int]] = field(default_factory=dict)
    """Label ids left out, by reason; they stay labelled for a later run."""

    def skip(self, reason: str, label_id: int) -> None:
        self.skipped.setdefault(reason, []).append(label_id)


def labels_dir(var_dir: Path) -> Path:
    """Where the supervisors' labels are kept as training data: every command that trains or
    picks the model (`crm run`, `crm train`, `crm model`, the retrain job) reads it."""
    return var_dir / "retrain"


def label_files(directory: Path | None) -> list[Path]:
    """The label files `write_labels` left in `directory`, in a stable order."""
    if directory is None:
        return []
    names = (LABELS_NLU, LABELS_RULES, LABELS_DOMAIN)
    return [directory / name for name in names if (directory / name).is_file()]


def saved_label_files(directory: Path) -> dict[str, bytes]:
    """The label files as they are, for `restore_label_files` if a training fails."""
    return {path.name: path.read_bytes() for path in label_files(directory)}


def restore_label_files(directory: Path, saved: dict[str, bytes]) -> None:
    """Put back the label files saved before: a failed training must not leave inputs that
    the next `crm run` would fail to train on."""
    for path in label_files(directory):
        if path.name not in saved:
            path.unlink()
    for name, content in saved.items():
        (directory / name).write_bytes(content)


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files + sorted((root / MODEL_CODE).rglob("*.py"))


def fingerprint(root: Path = PROJECT_ROOT, extra: list[Path] | None = None) -> str:
    """A hash of everything that shapes the model: its inputs, imports, Rasa's version and the
    sentence encoders' id (a new encoder package or onnxruntime makes Rasa refuse the model)."""
    from nlp.encoder import encoder_id  # onnxruntime: only for the callers that train

    digest = hashlib.sha256(f"{version('rasa')};encoders={encoder_id()}".encode())
    for path in _input_files(root) + list(extra or []):
        digest.update(
            str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode()
        )
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def domain_intents(root: Path = PROJECT_ROOT) -> set[str]:
    domain = yaml.safe_load((root / "domain.yml").read_text())
    return {
        next(iter(intent)) if isinstance(intent, dict) else intent
        for intent in domain.get("intents", [])
    }


def domain_responses(root: Path = PROJECT_ROOT) -> set[str]:
    return set(yaml.safe_load((root / "domain.yml").read_text()).get("responses") or {})


def existing_examples(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """Example text (lower-cased) to intent, from the project's own NLU data."""
    examples: dict[str, str] = {}
    for path in sorted((root / "data").rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []) or []:
            if "intent" in item:
                for line in str(item.get("examples", "")).splitlines():
                    text = line.strip().removeprefix("- ").strip()
                    if text:
                        examples[text.lower()] = item["intent"]
    return examples


def convert_import(csv_path: Path, out_path: Path, root: Path = PROJECT_ROOT) -> ImportReport:
    """Write the CSV's usable rows as Rasa NLU data at out_path (never into data/)."""
    try:
        handle = csv_path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise ImportFileError(f"cannot read {csv_path}: {error.strerror}") from None
    report = ImportReport()
    known_intents = domain_intents(root)
    seen = existing_examples(root)
    by_intent: dict[str, list[str]] = {}
    with handle:
        try:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            intent_column = next((c for c in INTENT_COLUMNS if c in columns), None)
            if TEXT_COLUMN not in columns or intent_column is None:
                raise ImportFileError(
                    f"{csv_path} must have a header with columns 'text' and 'intent' "
                    f"(found: {', '.join(columns) or 'nothing'})"
                )
            for row in reader:
                text = " ".join((row.get(TEXT_COLUMN) or "").split())
                intent = (row.get(intent_column) or "").strip()
                if not text or not intent or ENTITY_MARKUP.search(text):
                    report.skipped_invalid += 1
                    continue
                if intent not in known_intents:
                    report.skipped_unknown_intent[intent] += 1
                    continue
                if text.lower() in seen:
                    report.skipped_duplicate += 1
                    continue
                seen[text.lower()] = intent
                by_intent.setdefault(intent, []).append(text)
                report.imported[intent] += 1
        except UnicodeDecodeError:
            raise ImportFileError(f"{csv_path} is not UTF-8 text") from None
        except csv.Error as error:
            raise ImportFileError(f"{csv_path} is not valid CSV: {error}") from None
    nlu = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in sorted(by_intent.items())
    ]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, sort_keys=False))
    return report


def _label_problem(text: str, intent: str, new: bool, taken_responses: set[str]) -> str | None:
    if not text or ENTITY_MARKUP.search(text):
        return "unusable_text"
    if new and not INTENT_NAME.fullmatch(intent):
        return "invalid_intent_name"
    if new and f"utter_{intent}" in taken_responses:
        return "response_name_taken"
    return None


def write_labels(
    labels: Sequence[Label], directory: Path, root: Path = PROJECT_ROOT
) -> LabelExport:
    """Write the labels as Rasa training data in `directory` (never into data/), replacing
    what an earlier run wrote there; nothing is left there when no label is usable.

    A label of a known intent adds an NLU example (unless data/ already has the text: the
    same intent needs nothing more, another intent is a conflict data/ wins). A new intent
    also gets a domain fragment (the intent and `utter_<intent>` with the latest answer
    given) and a rule answering it, once it has MIN_NEW_INTENT_EXAMPLES usable labels.
    """
    known_intents, taken = domain_intents(root), domain_responses(root)
    seen = existing_examples(root)
    export = LabelExport()
    accepted: dict[str, list[int]] = {}
    fresh: dict[str, list[str]] = {}
    answers: dict[str, str] = {}
    for label in sorted(labels, key=lambda label: label["id"]):
        text, intent = " ".join(label["text"].split()), label["intent"]
        new = intent not in known_intents
        problem = _label_problem(text, intent, new, taken)
        if problem is None and seen.get(text.lower(), intent) != intent:
            problem = "conflicting_example"
        if problem:
            export.skip(problem, label["id"])
            continue
        accepted.setdefault(intent, []).append(label["id"])
        if text.lower() not in seen:  # data/ or an earlier label may have it already
            seen[text.lower()] = intent
            fresh.setdefault(intent, []).append(text)
        if new and label["response"]:
            answers[intent] = label["response"]  # the latest answer given wins
    for intent, ids in accepted.items():
        if intent not in known_intents:
            reason = None
            if intent not in answers:
                reason = "new_intent_without_response"
            elif len(fresh.get(intent, [])) < MIN_NEW_INTENT_EXAMPLES:
                reason = "new_intent_needs_examples"
            if reason:
                answers.pop(intent, None)
                for label_id in ids:
                    export.skip(reason, label_id)
                continue
        export.used.extend(ids)
        export.examples.extend((text, intent) for text in fresh.get(intent, []))
    export.new_intents = dict(sorted(answers.items()))
    export.used.sort()
    _write_label_files(export, directory)
    return export


def _write_label_files(export: LabelExport, directory: Path) -> None:
    documents: dict[str, dict] = {}
    by_intent: dict[str, list[str]] = {}
    for text, intent in export.examples:
        by_intent.setdefault(intent, []).append(text)
    if by_intent:
        documents[LABELS_NLU] = {
            "nlu": [
                {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
                for intent, texts in sorted(by_intent.items())
            ]
        }
    if export.new_intents:
        documents[LABELS_DOMAIN] = {
            "intents": list(export.new_intents),
            "responses": {
                f"utter_{intent}": [{"text": answer}]
                for intent, answer in export.new_intents.items()
            },
        }
        documents[LABELS_RULES] = {
            "rules": [
                {
                    "rule": f"answer {intent} (supervisor label)",
                    "steps": [{"intent": intent}, {"action": f"utter_{intent}"}],
                }
                for intent in export.new_intents
            ]
        }
    directory.mkdir(parents=True, exist_ok=True)
    for name in (LABELS_NLU, LABELS_RULES, LABELS_DOMAIN):
        path = directory / name
        if name in documents:
            body = {"version": "3.1", **documents[name]}
            path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True))
        else:
            path.unlink(missing_ok=True)


@contextmanager
def merged_domain(root: Path, fragments: Sequence[Path]) -> Iterator[Path]:
    """domain.yml alone, or a temporary folder with it and the fragments: Rasa merges every
    domain file of a folder given as --domain, and domain.yml itself stays untouched."""
    if not fragments:
        yield root / "domain.yml"
        return
    with tempfile.TemporaryDirectory(prefix="domain-") as folder:
        merged = Path(folder)
        (merged / "domain.yml").write_bytes((root / "domain.yml").read_bytes())
        for number, fragment in enumerate(fragments):
            (merged / f"labels-{number}.yml").write_bytes(fragment.read_bytes())
        yield merged


def model_path(models_dir: Path, digest: str) -> Path:
    return models_dir / f"northwind-{digest}.tar.gz"


def current_model(
    root: Path = PROJECT_ROOT, models_dir: Path | None = None, labels: Path | None = None
) -> Path:
    """The model path for the current inputs and labels (it may not be trained yet)."""
    return model_path(models_dir or root / "models", fingerprint(root, label_files(labels)))


def ensure_model(
    root: Path = PROJECT_ROOT,
    import_csv: Path | None = None,
    force: bool = False,
    models_dir: Path | None = None,
    labels: Path | None = None,
) -> Path:
    """Return a model for the current inputs, training one only when none exists yet.

    `labels` is the folder `write_labels` wrote (`labels_dir(settings.var_dir)`): its files
    are training inputs like data/, so the fingerprint, and with it the model, follows them.
    """
    models_dir = models_dir or root / "models"
    data_paths = [root / "data"]
    extra: list[Path] = label_files(labels)
    fragments = [path for path in extra if path.name == LABELS_DOMAIN]
    data_paths.extend(path for path in extra if path.name != LABELS_DOMAIN)
    if import_csv is not None:
        import_csv = import_csv.resolve()
        imported = (
            root
            / "var"
            / "import"
            / f"{hashlib.sha256(import_csv.read_bytes()).hexdigest()[:16]}.yml"
        )
        report = convert_import(import_csv, imported, root)
        for line in report.lines():
            print(f"import: {line}")
        data_paths.append(imported)
        extra.append(imported)
    target = model_path(models_dir, fingerprint(root, extra))
    if target.exists() and not force:
        print(f"model is up to date: {target.name}")
        return target
    print(f"training {target.name} (inputs changed or no model yet)", flush=True)
    with merged_domain(root, fragments) as domain:
        command = [
            str(Path(sys.executable).with_name("rasa")),
            "train",
            "--config",
            str(root / "config.yml"),
            "--domain",
            str(domain),
            "--data",
            *map(str, data_paths),
            "--out",
            str(models_dir),
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
        ]
        subprocess.run(command, cwd=root, check=True)
    return target
