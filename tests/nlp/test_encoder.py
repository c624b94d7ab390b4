"""The sentence encoder against a numpy forward pass of the same weights, and on meaning."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from safetensors.numpy import load_file
from scipy.special import erf, softmax

from nlp.encoder import (
    DIMENSION,
    ModelFilesError,
    SentenceEncoder,
    encoder_id,
    load_encoder,
    sentence_encoder,
    shared_encoder,
)
from nlp.encoder.graph import INPUT_NAMES, OUTPUT_NAME, activation_matmuls, bert_graph
from nlp.encoder.model_files import SHA256, TOKENIZER_FILE, WEIGHTS_FILE, model_files
from nlp.encoder.sentence_encoder import CACHE_ENV, QUANTIZATION, graph_key, quantized_model

TEXTS = [
    "How much does it cost to take cash out at an ATM?",
    "what is the fee for withdrawing money from a cash machine",
    "my card got stolen yesterday",
    "hi",
    "I topped up with my card but the money still hasn't appeared in my account, why?",
]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-12) * weight + bias


def _linear(w: dict[str, np.ndarray], x: np.ndarray, prefix: str) -> np.ndarray:
    return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]


def reference_embeddings(w: dict[str, np.ndarray], feeds: dict[str, np.ndarray]) -> np.ndarray:
    """BERT and sentence-transformers' mean pooling, written from the paper's equations."""
    ids, mask, types = (feeds[name] for name in INPUT_NAMES)
    batch, length = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length]
        + w["embeddings.token_type_embeddings.weight"][types]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    heads, size = 12, x.shape[-1] // 12
    key_bias = np.where(mask[:, None, None, :] == 1, 0.0, -1e9)
    for layer in range(6):
        p = f"encoder.layer.{layer}"

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        q, k, v = (
            split(_linear(w, x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value")
        )
        attention = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + key_bias, axis=-1)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
        x = _layer_norm(
            _linear(w, context, f"{p}.attention.output.dense") + x,
            w[f"{p}.attention.output.LayerNorm.weight"],
            w[f"{p}.attention.output.LayerNorm.bias"],
        )
        inner = _linear(w, x, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
        x = _layer_norm(
            _linear(w, inner, f"{p}.output.dense") + x,
            w[f"{p}.output.LayerNorm.weight"],
            w[f"{p}.output.LayerNorm.bias"],
        )
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return load_file(str(model_files().weights))


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


@pytest.fixture(scope="module")
def feeds(encoder: SentenceEncoder) -> dict[str, np.ndarray]:
    return encoder.tokenize(TEXTS)


@pytest.fixture(scope="module")
def reference(weights, feeds) -> np.ndarray:
    return reference_embeddings(weights, feeds)


def test_float_graph_matches_the_numpy_forward_pass(weights, feeds, reference) -> None:
    model = bert_graph(weights)
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    [embeddings] = session.run([OUTPUT_NAME], feeds)
    assert embeddings.shape == (len(TEXTS), DIMENSION)
    np.testing.assert_allclose(embeddings, reference, atol=1e-4)


def test_int8_model_stays_close_to_the_float_one(encoder, reference) -> None:
    embeddings = encoder.encode(TEXTS)
    assert embeddings.shape == (len(TEXTS), DIMENSION) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    cosines = (embeddings * reference).sum(axis=1)
    assert cosines.min() >= 0.98


def test_only_weight_matmuls_are_quantised() -> None:
    model = onnx.load(str(quantized_model(model_files())), load_external_data=False)
    ops = [node.op_type for node in model.graph.node]
    # Six layers: four attention and two feed-forward products with weights; two without.
    assert ops.count("MatMulInteger") == 6 * 6
    assert ops.count("MatMul") == 6 * 2
    assert len(activation_matmuls(model)) == 6 * 2


def test_paraphrases_are_closer_than_unrelated_sentences(encoder) -> None:
    cash_fee, paraphrase, stolen, *_ = encoder.encode(TEXTS)
    assert cash_fee @ paraphrase > 0.6
    assert cash_fee @ paraphrase > cash_fee @ stolen + 0.3


def test_a_texts_embedding_does_not_depend_on_the_others(encoder) -> None:
    """Quantisation scales a batch's activations together: each text is run alone, so the
    classifier sees in a parse the vector it was trained on."""
    together = encoder.encode(TEXTS)
    alone = np.vstack([encoder.encode([text]) for text in reversed(TEXTS)])[::-1]
    np.testing.assert_array_equal(together, alone)
    assert encoder.encode([]).shape == (0, DIMENSION)


def test_long_texts_are_truncated(encoder) -> None:
    feeds = encoder.tokenize(["card " * 500, "hi"])
    assert feeds["input_ids"].shape == (2, 128)
    assert feeds["attention_mask"][1].sum() == 3  # [CLS] hi [SEP]
    assert encoder.encode(["card " * 500]).shape == (1, DIMENSION)


def test_shared_encoder_is_one_instance_across_threads() -> None:
    seen: list[SentenceEncoder] = []
    threads = [threading.Thread(target=lambda: seen.append(shared_encoder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(encoder) for encoder in seen}) == 1


def test_model_is_cached_under_the_weights_hash(tmp_path: Path) -> None:
    files = model_files()
    cached = tmp_path / "cache"
    cached.mkdir()
    built = quantized_model(files)
    shutil.copy(built, cached / built.name)
    assert quantized_model(files, cached) == cached / built.name
    assert files.weights_sha256[:16] in built.name
    assert f"-g{graph_key()}-" in built.name


def test_graph_key_follows_the_quantisation_settings(monkeypatch) -> None:
    before = graph_key()
    monkeypatch.setitem(QUANTIZATION, "per_channel", not QUANTIZATION["per_channel"])
    assert graph_key() != before


def test_encoder_id_names_onnxruntime_and_the_sources(monkeypatch) -> None:
    before = encoder_id()
    assert encoder_id() == before
    monkeypatch.setattr(ort, "__version__", ort.__version__ + ".post1")
    assert encoder_id() != before


def test_truncated_cached_model_is_rebuilt(tmp_path: Path, monkeypatch, caplog) -> None:
    files = model_files()
    built = quantized_model(files)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    cached = tmp_path / built.name
    shutil.copy(built, cached)
    with cached.open("r+b") as file:
        file.truncate(built.stat().st_size // 3)
    with caplog.at_level(logging.WARNING, logger=sentence_encoder.__name__):
        encoder = load_encoder()
    assert str(cached) in caplog.text
    assert cached.stat().st_size == built.stat().st_size
    assert encoder.encode(TEXTS[:1]).shape == (1, DIMENSION)
    assert [p.name for p in tmp_path.glob("*.partial")] == []
    caplog.clear()
    assert load_encoder().encode(TEXTS[:1]).shape == (1, DIMENSION)
    assert str(cached) not in caplog.text


def test_rebuild_keeps_a_file_that_another_process_already_rebuilt(tmp_path: Path) -> None:
    files = model_files()
    built = quantized_model(files)
    shutil.copy(built, tmp_path / built.name)
    before = (tmp_path / built.name).stat().st_mtime_ns
    assert quantized_model(files, tmp_path, rebuild=True) == tmp_path / built.name
    assert (tmp_path / built.name).stat().st_mtime_ns == before


def test_changed_or_missing_files_are_refused(tmp_path: Path) -> None:
    source = model_files().tokenizer.parent
    shutil.copy(source / TOKENIZER_FILE, tmp_path / TOKENIZER_FILE)
    with pytest.raises(ModelFilesError, match="missing"):
        model_files(tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not the weights")
    with pytest.raises(ModelFilesError, match=SHA256[WEIGHTS_FILE]):
        model_files(tmp_path)
