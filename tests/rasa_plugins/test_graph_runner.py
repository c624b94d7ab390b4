"""The sequential graph runner gives what Rasa's dask runner gives, on the trained project
model: every parse of a set of messages, and the policies' prediction after every event of
the project's stories."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import rasa.core.processor as rasa_processor
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError

from bench.story_trackers import grown, project
from bot.rasa_plugins.graph_runner import RASAS_OWN, SequentialGraphRunner
from bot.training import ensure_model

MESSAGES = [
    "hi",
    "I lost my card",
    "what are your mortgage rates",
    "my top up failed twice, this is ridiculous",
    "1234",
    "¿dónde está mi tarjeta?",
    "😡😡",
    "",
    "?!",
    "can I talk to a person please",
]


@pytest.fixture(scope="module")
def agents() -> Iterator[tuple[Agent, Agent]]:
    """The project's model loaded with each runner (the processor picks it up on load)."""
    model = str(ensure_model())
    loaded = []
    for runner in (RASAS_OWN, SequentialGraphRunner):
        rasa_processor.DaskGraphRunner = runner  # type: ignore[misc]
        try:
            loaded.append(Agent.load(model))
        finally:
            rasa_processor.DaskGraphRunner = RASAS_OWN  # type: ignore[misc]
    dask_agent, sequential_agent = loaded
    assert isinstance(sequential_agent.processor.graph_runner, SequentialGraphRunner)
    assert type(dask_agent.processor.graph_runner) is RASAS_OWN
    yield dask_agent, sequential_agent


def test_every_parse_is_the_same(agents: tuple[Agent, Agent]) -> None:
    dask_agent, sequential_agent = agents

    async def parses(agent: Agent) -> list[dict]:
        return [await agent.parse_message(text) for text in MESSAGES]

    assert asyncio.run(parses(sequential_agent)) == asyncio.run(parses(dask_agent))


def test_every_prediction_on_the_stories_is_the_same(agents: tuple[Agent, Agent]) -> None:
    dask_processor, sequential_processor = (agent.processor for agent in agents)
    assert isinstance(sequential_processor, MessageProcessor)
    _, trackers = project()
    compared = 0
    for index, story in enumerate(trackers[:20]):
        for tracker in grown(story, f"runner-{index}"):
            expected = dask_processor._predict_next_with_tracker(tracker)
            found = sequential_processor._predict_next_with_tracker(tracker)
            assert (found.policy_name, found.probabilities, found.events) == (
                expected.policy_name,
                expected.probabilities,
                expected.events,
            )
            compared += 1
    assert compared > 200


def test_an_input_named_like_a_node_is_refused(agents: tuple[Agent, Agent]) -> None:
    for agent in agents:
        runner = agent.processor.graph_runner
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            runner.run(
                inputs={"__message__": "nlu_message_converter"}, targets=["run_RegexMessageHandler"]
            )
