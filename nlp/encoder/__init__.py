"""Sentence embeddings from a model shipped in a registry package, run through onnxruntime."""

from nlp.encoder.model_files import ModelFilesError
from nlp.encoder.sentence_encoder import (
    DIMENSION,
    SentenceEncoder,
    encoder_id,
    load_encoder,
    shared_encoder,
)

__all__ = [
    "DIMENSION",
    "ModelFilesError",
    "SentenceEncoder",
    "encoder_id",
    "load_encoder",
    "shared_encoder",
]
