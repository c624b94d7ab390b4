"""all-MiniLM-L6-v2 as an ONNX graph, written with `onnx.helper` from its safetensors weights.

Written here because no registry package ships this model as ONNX, and exporting it the usual
way needs torch, which this project does not install. The graph is BERT as the weights define
it (post-LayerNorm encoder layers, GELU with erf, LayerNorm epsilon 1e-12), followed by what
sentence-transformers adds: the mean of the token vectors under the attention mask, L2-normalised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# LayerNormalization is a standard operator from opset 17; onnxruntime 1.19 runs up to 21.
OPSET = 17
HEADS = 12
LAYER_NORM_EPSILON = 1e-12
# Added to the attention scores of padding tokens: its exp() is 0 in float32.
MASKED_SCORE = -10000.0
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"


class _GraphBuilder:
    """Collects nodes and initialisers; each node's single output is named after the node."""

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray | float | list[int]) -> str:
        array = np.asarray(value, dtype=np.int64 if isinstance(value, list) else None)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, key: str) -> str:
        return self.constant(key, self.weights[key])

    def node(self, op: str, inputs: list[str], name: str, **attributes: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def linear(self, x: str, prefix: str, scale: float = 1.0) -> str:
        """`x @ W.T + b` for a torch Linear; `scale` is folded into W and b."""
        weight = self.weights[f"{prefix}.weight"].T * np.float32(scale)
        bias = self.weights[f"{prefix}.bias"] * np.float32(scale)
        product = self.node(
            "MatMul", [x, self.constant(f"{prefix}.weight_t", weight)], f"{prefix}.matmul"
        )
        return self.node("Add", [product, self.constant(f"{prefix}.bias", bias)], prefix)

    def layer_norm(self, x: str, prefix: str) -> str:
        return self.node(
            "LayerNormalization",
            [x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")],
            prefix,
            axis=-1,
            epsilon=LAYER_NORM_EPSILON,
        )

    def gelu(self, x: str, prefix: str) -> str:
        """0.5 x (1 + erf(x / sqrt 2)), in the pattern onnxruntime fuses into one Gelu kernel."""
        scaled = self.node(
            "Div", [x, self.constant(f"{prefix}.sqrt2", math.sqrt(2))], f"{prefix}.div"
        )
        erf = self.node("Erf", [scaled], f"{prefix}.erf")
        shifted = self.node("Add", [erf, self.constant(f"{prefix}.one", 1.0)], f"{prefix}.add")
        product = self.node("Mul", [x, shifted], f"{prefix}.mul")
        return self.node("Mul", [product, self.constant(f"{prefix}.half", 0.5)], prefix)


def layer_count(weights: Mapping[str, np.ndarray]) -> int:
    """How many encoder layers the weights hold."""
    pattern = re.compile(r"encoder\.layer\.(\d+)\.")
    return 1 + max(int(m.group(1)) for key in weights if (m := pattern.match(key)))


def _embeddings(g: _GraphBuilder, input_ids: str, token_type_ids: str) -> str:
    words = g.node(
        "Gather", [g.weight("embeddings.word_embeddings.weight"), input_ids], "embeddings.words"
    )
    length = g.node("Shape", [input_ids], "embeddings.length", start=1, end=2)
    positions = g.node(
        "Slice",
        [g.weight("embeddings.position_embeddings.weight"), g.constant("zero", [0]), length],
        "embeddings.positions",
    )
    types = g.node(
        "Gather",
        [g.weight("embeddings.token_type_embeddings.weight"), token_type_ids],
        "embeddings.types",
    )
    summed = g.node(
        "Add",
        [g.node("Add", [words, positions], "embeddings.add_positions"), types],
        "embeddings.sum",
    )
    return g.layer_norm(summed, "embeddings.LayerNorm")


def _split_heads(g: _GraphBuilder, x: str, prefix: str, head_size: int, perm: list[int]) -> str:
    heads = g.node(
        "Reshape", [x, g.constant(f"{prefix}.shape", [0, 0, HEADS, head_size])], f"{prefix}.heads"
    )
    return g.node("Transpose", [heads], f"{prefix}.transposed", perm=perm)


def _encoder_layer(g: _GraphBuilder, x: str, key_bias: str, prefix: str, hidden: int) -> str:
    head_size = hidden // HEADS
    attention = f"{prefix}.attention"
    # Scaling the query by 1/sqrt(head size) up front is the same as scaling every score.
    query = g.linear(x, f"{attention}.self.query", scale=1 / math.sqrt(head_size))
    key = g.linear(x, f"{attention}.self.key")
    value = g.linear(x, f"{attention}.self.value")
    query = _split_heads(g, query, f"{attention}.self.query", head_size, [0, 2, 1, 3])
    key = _split_heads(g, key, f"{attention}.self.key", head_size, [0, 2, 3, 1])
    value = _split_heads(g, value, f"{attention}.self.value", head_size, [0, 2, 1, 3])
    scores = g.node("MatMul", [query, key], f"{attention}.scores")
    masked = g.node("Add", [scores, key_bias], f"{attention}.masked_scores")
    probabilities = g.node("Softmax", [masked], f"{attention}.probabilities", axis=-1)
    context = g.node("MatMul", [probabilities, value], f"{attention}.context")
    context = g.node("Transpose", [context], f"{attention}.context_t", perm=[0, 2, 1, 3])
    context = g.node(
        "Reshape",
        [context, g.constant(f"{attention}.merge", [0, 0, hidden])],
        f"{attention}.merged",
    )
    projected = g.linear(context, f"{attention}.output.dense")
    x = g.layer_norm(
        g.node("Add", [projected, x], f"{attention}.residual"), f"{attention}.output.LayerNorm"
    )
    inner = g.gelu(g.linear(x, f"{prefix}.intermediate.dense"), f"{prefix}.intermediate.gelu")
    out = g.linear(inner, f"{prefix}.output.dense")
    return g.layer_norm(g.node("Add", [out, x], f"{prefix}.residual"), f"{prefix}.output.LayerNorm")


def bert_graph(weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """The float32 sentence encoder: token ids of a padded batch in, (batch, hidden) vectors out."""
    g = _GraphBuilder(weights)
    input_ids, attention_mask, token_type_ids = INPUT_NAMES
    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    x = _embeddings(g, input_ids, token_type_ids)
    mask = g.node("Cast", [attention_mask], "mask", to=TensorProto.FLOAT)
    padding = g.node("Sub", [g.constant("one", 1.0), mask], "padding")
    bias = g.node("Mul", [padding, g.constant("masked_score", MASKED_SCORE)], "key_bias_2d")
    key_bias = g.node("Unsqueeze", [bias, g.constant("head_axes", [1, 2])], "key_bias")
    for layer in range(layer_count(weights)):
        x = _encoder_layer(g, x, key_bias, f"encoder.layer.{layer}", hidden)
    token_mask = g.node("Unsqueeze", [mask, g.constant("token_axis", [2])], "token_mask")
    sequence_axis = g.constant("sequence_axis", [1])
    summed = g.node(
        "ReduceSum",
        [g.node("Mul", [x, token_mask], "masked_tokens"), sequence_axis],
        "pooled_sum",
        keepdims=0,
    )
    counts = g.node("ReduceSum", [token_mask, sequence_axis], "token_count", keepdims=0)
    counts = g.node("Max", [counts, g.constant("min_count", 1e-9)], "token_count_clamped")
    mean = g.node("Div", [summed, counts], "pooled_mean")
    g.node("LpNormalization", [mean], OUTPUT_NAME, axis=-1, p=2)
    batch_and_sequence = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(n, TensorProto.INT64, batch_and_sequence)
            for n in INPUT_NAMES
        ],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def activation_matmuls(model: onnx.ModelProto) -> list[str]:
    """MatMul nodes whose operands are both activations: the attention's scores and context.

    Quantising them to int8 costs accuracy and saves little, so they stay float.
    """
    constants = {tensor.name for tensor in model.graph.initializer}
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and not constants.intersection(node.input)
    ]
