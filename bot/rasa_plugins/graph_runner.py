"""Rasa's prediction graphs run node after node in one precomputed order, without dask.

Every parse and every policy prediction runs a graph of about a dozen nodes through
`DaskGraphRunner`, which builds a dask graph, prunes the schema to the targets' ancestors and
has dask's scheduler order and fire the tasks, on each call. On one thread that bookkeeping
cost about a fifth of a parse beside the nodes themselves (cProfile of 600 BANKING77
parses). The graphs are fixed once a model is loaded, so this runner orders each target
set's nodes once and then calls them in that order with the same arguments dask would pass:
each needed node's `(name, output)`, an input's `(name, value)` (an input named after a node
replaces it), and the bare name of anything neither provides (GraphNode warns about those,
as under dask).

Rasa's trainer keeps dask: training runs once and caches by node.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

RASAS_OWN = DaskGraphRunner
"""The runner `install` replaces, for the tests to compare against."""


class SequentialGraphRunner(DaskGraphRunner):
    """A `DaskGraphRunner` whose `run` calls the nodes itself, in an order kept per target set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._orders: dict[tuple[str, ...], list[str]] = {}

    def _order(self, targets: tuple[str, ...]) -> list[str]:
        """The nodes the targets depend on (themselves included), dependencies first."""
        order = self._orders.get(targets)
        if order is None:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            graph = {
                name: [need for need in dict.fromkeys(node.needs.values()) if need in nodes]
                for name, node in nodes.items()
            }
            order = list(TopologicalSorter(graph).static_order())
            self._orders[targets] = order
        return order

    def run(
        self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        run_targets = tuple(targets or self._graph_schema.target_names)
        order = self._order(run_targets)
        results: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in order:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of "
                    "the input names passed to the `run` method are the same as node names "
                    "in the graph schema."
                )
            results[name] = (name, value)
        try:
            for name in order:
                if name in results:
                    continue  # an input replaces the node of its name, as in dask's graph
                needs = self._graph_schema.nodes[name].needs.values()
                results[name] = self._instantiated_nodes[name](
                    *(results.get(need, need) for need in needs)
                )
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)


def install() -> None:
    """Rasa's processor loads every model with this runner from now on."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
