"""The topics job: topics fitted on a sample of customer messages, every message assigned,
weekly counts per segment and channel and a feedback digest per topic stored for the run.

Two passes over the messages, each a chunk at a time: the first draws a seeded uniform
sample (the `SAMPLE` messages with the smallest random keys), the second assigns every
message, so memory stays bounded by the sample and the aggregates, not by the message count.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from analytics.topics import COMPLAINTS, OTHER, REQUESTS, FeedbackDigest, TopicModel
from bot.crm.store.base import as_utc
from bot.crm.store.facts import FactStore
from bot.crm.store.metric_defs import NO_SEGMENT
from bot.crm.store.topics import CHUNK, TopicMessage, TopicStore, week_of
from bot.jobs.base import JobContext, JobResult

SAMPLE = 20_000
"""Messages the topics are fitted on: enough for every topic a dashboard can show, and a
fitting time that does not grow with the message count."""
N_TOPICS = 15
SEED = 0


def sample_texts(chunks: Iterable[list[TopicMessage]], size: int, seed: int) -> list[str]:
    """A uniform random sample of `size` texts (all of them if fewer), in message order;
    the same messages give the same sample."""
    rng = np.random.default_rng(seed)
    keys = np.empty(0)
    ids = np.empty(0, dtype=np.int64)
    texts: dict[int, str] = {}
    for chunk in chunks:
        keys = np.concatenate([keys, rng.random(len(chunk))])
        ids = np.concatenate([ids, np.array([m.id for m in chunk], dtype=np.int64)])
        texts.update((m.id, m.text) for m in chunk)
        if len(keys) > size:
            smallest = np.argpartition(keys, size)[:size]
            keys, ids = keys[smallest], ids[smallest]
            texts = {int(i): texts[int(i)] for i in ids}
    return [texts[int(i)] for i in np.sort(ids)]


class TopicsJob:
    name = "topics"
    description = (
        "Find what customers write about: topics of their messages with rising ones week "
        "over week, example messages, and a digest of complaints and requests per segment."
    )

    def run(self, context: JobContext) -> JobResult:
        FactStore(context.engine, context.settings.business_hours).refresh()
        store = TopicStore(context.engine)
        chunks = math.ceil(store.count_customer_messages() / CHUNK)
        sample = sample_texts(
            context.progress(
                store.customer_messages(), total=chunks, desc="sampling messages", unit="chunk"
            ),
            SAMPLE,
            SEED,
        )
        model = TopicModel(n_topics=N_TOPICS, random_state=SEED).fit(sample)
        weeks: Counter[tuple[int, str, int | None, str | None]] = Counter()
        digest = FeedbackDigest()
        messages = 0
        for chunk in context.progress(
            store.customer_messages(), total=chunks, desc="assigning topics", unit="chunk"
        ):
            messages += len(chunk)
            topics = model.predict([m.text for m in chunk])
            for message, topic in zip(chunk, topics.tolist(), strict=True):
                if topic == OTHER:
                    continue
                week = week_of(as_utc(message.created_at).date()).isoformat()
                weeks[(topic, week, message.segment_id, message.channel)] += 1
                segment = NO_SEGMENT if message.segment_id is None else message.segment_id
                digest.add(topic, segment, message.text, message.sentiment)
        digests = digest.digests()
        stored = store.replace(
            context.run_id,
            [
                {
                    "label": topic.label,
                    "keywords": [{"word": w, "weight": weight} for w, weight in topic.keywords],
                    "examples": topic.examples,
                    "digest": digests.get(i, {COMPLAINTS: {}, REQUESTS: {}}),
                }
                for i, topic in enumerate(model.topics_)
            ],
            [
                {"topic": t, "week": w, "segment_id": s, "channel": c, "messages": n}
                for (t, w, s, c), n in sorted(weeks.items(), key=lambda item: str(item[0]))
            ],
        )
        assigned = sum(weeks.values())
        return JobResult(
            rows={
                "messages": messages,
                "assigned": assigned,
                "other": messages - assigned,
                "topics": stored,
                "topic_weeks": len(weeks),
            },
            figures={
                "sample": len(sample),
                "topics_asked": N_TOPICS,
                "min_similarity": model.min_similarity,
                "topics": [
                    {"label": topic.label, "sample_messages": topic.size} for topic in model.topics_
                ],
            },
        )
