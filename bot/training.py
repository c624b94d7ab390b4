"""Trains the Rasa model only when its inputs changed, optionally with imported labelled history."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import rasa
import yaml

from bot.settings import PROJECT_ROOT

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" inside examples as annotations.
ENTITY_MARKUP = re.compile(r"\[[^\]]+\](\(|\{|\[)")
TEXT_COLUMN = "text"
INTENT_COLUMNS = ("intent", "category")


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


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return files


def fingerprint(root: Path = PROJECT_ROOT, extra: list[Path] | None = None) -> str:
    """A hash of everything that shapes the model: its inputs, imports and Rasa's version."""
    digest = hashlib.sha256(rasa.__version__.encode())
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


def model_path(models_dir: Path, digest: str) -> Path:
    return models_dir / f"northwind-{digest}.tar.gz"


def ensure_model(
    root: Path = PROJECT_ROOT,
    import_csv: Path | None = None,
    force: bool = False,
    models_dir: Path | None = None,
) -> Path:
    """Return a model for the current inputs, training one only when none exists yet."""
    models_dir = models_dir or root / "models"
    data_paths = [root / "data"]
    extra: list[Path] = []
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
    print(f"training {target.name} (inputs changed or no model yet)")
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "train",
        "--config",
        str(root / "config.yml"),
        "--domain",
        str(root / "domain.yml"),
        "--data",
        *map(str, data_paths),
        "--out",
        str(models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    subprocess.run(command, cwd=root, check=True)
    return target
