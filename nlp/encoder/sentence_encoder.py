"""Sentence embeddings from all-MiniLM-L6-v2 through onnxruntime, quantised once per machine.

Building and quantising the graph takes seconds, so the int8 model is cached on disk, keyed by
the weights' sha256, a hash of what builds it (graph.py's source and the quantisation settings)
and onnxruntime's version. The cache lives outside CRM_VAR_DIR (tests create many of those) in
CRM_MODEL_CACHE, by default ~/.cache/northwind-crm/models; a file lock makes concurrent first
starts build it once, and a cached file that onnxruntime cannot load is built again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from filelock import FileLock
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load_file
from tokenizers import Tokenizer
from tqdm import tqdm

from nlp.encoder import graph
from nlp.encoder.graph import INPUT_NAMES, OUTPUT_NAME, activation_matmuls, bert_graph
from nlp.encoder.model_files import SHA256, WEIGHTS_FILE, ModelFiles, model_files
from nlp.encoder.shared import ProcessShared
from nlp.encoder.universal import universal_id

logger = logging.getLogger(__name__)

DIMENSION = 384
MAX_TOKENS = 128
# Passed to quantize_dynamic (with the activation MatMuls excluded, see graph.py); part of the
# cached file's name, so changing them builds a new file.
QUANTIZATION: dict[str, Any] = {
    "op_types_to_quantize": ["MatMul"],
    "weight_type": "QInt8",
    # One scale per output column: per-tensor scales cost up to 0.2 in cosine on short texts;
    # per channel the worst seen was 0.97, the mean 0.994.
    "per_channel": True,
}
CACHE_ENV = "CRM_MODEL_CACHE"
THREADS_ENV = "CRM_ENCODER_THREADS"
DEFAULT_THREADS = 1
# What onnxruntime raises for a model file it cannot load (truncated, corrupt, missing).
LOAD_ERRORS = (
    ort_errors.Fail,
    ort_errors.InvalidArgument,
    ort_errors.InvalidGraph,
    ort_errors.InvalidProtobuf,
    ort_errors.NoModel,
    ort_errors.NoSuchFile,
)


def model_cache_dir() -> Path:
    """Where quantised models are kept: one per machine, shared by every var dir and test."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "northwind-crm" / "models"
    )


def graph_key() -> str:
    """A hash of what builds the int8 model: graph.py's source and the quantisation settings."""
    digest = hashlib.sha256(Path(graph.__file__).read_bytes())
    digest.update(json.dumps(QUANTIZATION, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def encoder_id() -> str:
    """Names the embeddings this package computes: anything fit on them is valid only for it.

    A hash of this package's sources (the graph, the quantisation, tokenisation and pooling
    settings, the expected file hashes), the weights' sha256, onnxruntime's version and the
    Universal Sentence Encoder's (`universal_id()`). The weights' hashes are the expected ones:
    the loaders refuse any other file, and so this needs neither model package nor reading
    their files.
    """
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    digest.update(f"weights={SHA256[WEIGHTS_FILE]};onnxruntime={ort.__version__}".encode())
    digest.update(f";universal={universal_id()}".encode())
    return digest.hexdigest()


def _cached_model_path(files: ModelFiles, cache_dir: Path) -> Path:
    name = f"all-MiniLM-L6-v2-{files.weights_sha256[:16]}-g{graph_key()}-ort{ort.__version__}"
    return cache_dir / f"{name}-int8.onnx"


def _loads(path: Path) -> bool:
    try:
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except LOAD_ERRORS:
        return False
    return True


def _build(files: ModelFiles, path: Path) -> None:
    """Writes the int8 model to a temporary file beside `path`, then renames it into place."""
    float_model = bert_graph(load_file(str(files.weights)))
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".onnx.partial")
    os.close(handle)
    try:
        quantize_dynamic(
            float_model,
            partial,
            op_types_to_quantize=QUANTIZATION["op_types_to_quantize"],
            nodes_to_exclude=activation_matmuls(float_model),
            weight_type=QuantType[QUANTIZATION["weight_type"]],
            per_channel=QUANTIZATION["per_channel"],
        )
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from other users
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


def quantized_model(
    files: ModelFiles, cache_dir: Path | None = None, rebuild: bool = False
) -> Path:
    """The int8 ONNX model for these weights, built and cached on first use.

    `rebuild`: the cached file failed to load; build it again, unless another process already
    has (it loads by the time this one holds the lock).
    """
    cache_dir = model_cache_dir() if cache_dir is None else cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = _cached_model_path(files, cache_dir)
    if path.is_file() and not rebuild:
        return path
    with FileLock(str(path.with_suffix(".lock"))):
        if not path.is_file() or (rebuild and not _loads(path)):
            _build(files, path)
    return path


def _threads() -> int:
    return int(os.environ.get(THREADS_ENV, DEFAULT_THREADS))


class SentenceEncoder:
    """Mean-pooled, L2-normalised 384-d float32 sentence embeddings; safe to share by threads."""

    def __init__(self, model_path: Path, tokenizer_path: Path, threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads() if threads is None else threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # No length: pad each batch to its longest text, not to the file's fixed 128.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's inputs for one batch, padded to its longest text."""
        encodings = self._tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """One row per text, each text run alone.

        Dynamic quantisation scales a MatMul's activations over the whole batch, padding
        included, so a text batched with others got another vector than alone: the classifier
        was trained on batched vectors and served single ones. Alone, a text's vector is the
        same in training and in a parse; batches were no faster on this 2-core CPU.
        """
        texts = list(texts)
        embeddings = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(
            tqdm(texts, desc="sentence embeddings", unit="text", disable=not progress)
        ):
            feeds = self.tokenize([text])
            [embeddings[row : row + 1]] = self._session.run(
                [OUTPUT_NAME], {name: feeds[name] for name in INPUT_NAMES}
            )
        return embeddings


def load_encoder(cache_dir: Path | None = None, threads: int | None = None) -> SentenceEncoder:
    """A new encoder over the installed model package (hashes checked, int8 model cached)."""
    files = model_files()
    path = quantized_model(files, cache_dir)
    try:
        return SentenceEncoder(path, files.tokenizer, threads)
    except LOAD_ERRORS as error:
        logger.warning(f"The cached sentence encoder {path} does not load ({error}); rebuilding it")
    path = quantized_model(files, cache_dir, rebuild=True)
    return SentenceEncoder(path, files.tokenizer, threads)


# The process's one MiniLM encoder, loaded on first use.
shared_encoder = ProcessShared(load_encoder)
