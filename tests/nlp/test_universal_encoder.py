"""The Universal Sentence Encoder from its registry package: checked files, stable vectors."""

from __future__ import annotations

import numpy as np
import pytest

import nlp.encoder.universal as universal
from nlp.encoder import ModelFilesError, encoder_id, shared_universal_encoder
from nlp.encoder.universal import DIMENSION, MAX_CHARS, UniversalEncoder, universal_id


@pytest.fixture(scope="module")
def encoder() -> UniversalEncoder:
    return shared_universal_encoder()


def test_vectors_are_unit_length_and_place_paraphrases_close(encoder: UniversalEncoder) -> None:
    vectors = encoder.encode(["I want to withdraw money", "how can I take cash out", "hola"])
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_a_text_gets_the_same_vector_alone_as_in_a_batch(encoder: UniversalEncoder) -> None:
    texts = [f"where is my card number {i}" for i in range(70)]  # more than one batch
    batched = encoder.encode(texts)
    alone = np.vstack([encoder.encode([text]) for text in (texts[0], texts[-1])])
    np.testing.assert_allclose(batched[[0, -1]], alone, atol=1e-5)


def test_long_texts_are_cut_and_empty_input_gives_no_rows(encoder: UniversalEncoder) -> None:
    start = ("my card payment was declined at the shop " * 15)[:MAX_CHARS]
    np.testing.assert_allclose(
        encoder.encode([start + "x" * 5000]), encoder.encode([start]), atol=1e-6
    )
    assert encoder.encode([]).shape == (0, DIMENSION)
    odd = encoder.encode(["", "🙂", "   "])
    assert odd.shape == (3, DIMENSION) and np.isfinite(odd).all()
    np.testing.assert_allclose(np.linalg.norm(odd, axis=1), 1.0, rtol=1e-5)
    with pytest.raises(TypeError, match="not one string"):
        encoder.encode("one string")


def test_a_file_other_than_the_expected_one_is_refused(monkeypatch) -> None:
    monkeypatch.setitem(universal.SHA256, "weights.npz", "0" * 64)
    with pytest.raises(ModelFilesError, match="expected 0000.*reinstall"):
        UniversalEncoder()


def test_a_missing_package_is_named_with_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(universal, "PACKAGE", "no_such_package_here")
    with pytest.raises(ModelFilesError, match="not installed; run: .*requirements-models.txt"):
        UniversalEncoder()


def test_encoder_id_changes_with_the_universal_encoder(monkeypatch) -> None:
    before_universal, before = universal_id(), encoder_id()
    monkeypatch.setitem(universal.SHA256, "sp.model", "1" * 64)
    assert universal_id() != before_universal
    assert encoder_id() != before
