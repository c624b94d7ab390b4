"""Sentence embeddings from models shipped in registry packages: MiniLM (onnxruntime) and USE."""

from nlp.encoder.model_files import ModelFilesError
from nlp.encoder.sentence_encoder import (
    DIMENSION,
    SentenceEncoder,
    encoder_id,
    load_encoder,
    shared_encoder,
)
from nlp.encoder.universal import UniversalEncoder, shared_universal_encoder

__all__ = [
    "DIMENSION",
    "ModelFilesError",
    "SentenceEncoder",
    "encoder_id",
    "load_encoder",
    "UniversalEncoder",
    "shared_encoder",
    "shared_universal_encoder",
]
