"""The analytics benchmark's data: six months of a bank bot's conversations, drawn with numpy.

Conversations alternate customer and bot messages; about 15% are handed to an agent (a bot
notice, a queue wait, then agent and customer turns) with a handoff ticket that is claimed,
resolved, rated and has an SLA due time. Customer messages carry an intent (greetings,
banking intents, nlu_fallback), a confidence and a sentiment. Customers hold a segment
(a quarter of them moved segment half way), conversations come on several channels, and
some contained conversations rated the bot. Everything is drawn with numpy from one seed,
vectorised (a million messages in seconds); `bench.analytics_load` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

CHANNELS = ("socketio", "rest", "telegram", "whatsapp")
CHANNEL_SHARE = (0.55, 0.2, 0.15, 0.1)
SEGMENTS = ("Loyal high value", "Everyday", "New joiners", "High value at risk", "Dormant")
SEGMENT_SHARE = (0.15, 0.45, 0.1, 0.1, 0.2)
SEGMENT_HANDOFF = np.array([0.11, 0.15, 0.18, 0.34, 0.13])
"""Share of each segment's conversations handed to a person (about 15% overall)."""
SEGMENT_MOOD = np.array([0.35, 0.1, 0.2, -0.35, 0.0])
SLA_MINUTES = np.array([15, 30, 30, 15, 60])
BANKING = (
    "card_arrival",
    "lost_or_stolen_card",
    "transfer_not_received_by_recipient",
    "declined_card_payment",
    "pending_transfer",
    "card_payment_fee_charged",
    "exchange_rate",
    "change_pin",
    "verify_my_identity",
    "top_up_failed",
    "Refund_not_showing_up",
    "activate_my_card",
    "transaction_charged_twice",
    "terminate_account",
    "card_not_working",
    "compromised_card",
    "apple_pay_or_google_pay",
    "atm_support",
    "edit_personal_details",
    "request_refund",
)
PHRASES = {
    "card_arrival": ("my new card still hasn't arrived", "when will my card get here"),
    "lost_or_stolen_card": ("i lost my card", "my card was stolen at the station"),
    "transfer_not_received_by_recipient": ("my friend never got the money i sent",),
    "declined_card_payment": ("my card was declined at the shop", "why was my payment declined"),
    "pending_transfer": ("my transfer has been pending for two days",),
    "card_payment_fee_charged": ("why was i charged a fee for a card payment",),
    "exchange_rate": ("what exchange rate do you use for euros",),
    "change_pin": ("how do i change my pin",),
    "terminate_account": ("i want to close my account", "please close my account"),
    "request_refund": ("i want a refund for this purchase",),
}
SMALL_TALK = {
    "greet": ("hi", "hello there", "good morning"),
    "thanks": ("thanks", "thank you so much"),
    "goodbye": ("bye", "that's all, bye"),
    "affirm": ("yes", "yes please"),
    "deny": ("no", "no thanks"),
    "inform": ("it was yesterday", "about 50 pounds", "the one ending 4321"),
}
FALLBACK_WORDS = (
    "boat loan",
    "crypto wallet",
    "joint mortgage",
    "pension transfer",
    "cheque book",
    "safe deposit box",
    "student overdraft",
    "business account",
    "gold bars",
    "car finance",
)
FALLBACK_PHRASES = ("can you help with my {}", "do you do {}", "i need a {} asap", "{}?")
REASONS = ("customer_request", "frustration", "repeated_fallback", "segment_strategy")
REASON_INTENT = {"customer_request": "ask_for_human", "frustration": "frustrated"}
AGENTS = 20
TOPICS_RUN = 1
"""The succeeded `topics` job run the benchmark's topics belong to."""
DAY_S = 86_400.0


@dataclass
class Dataset:
    """Every generated table as a frame, in insert order (parents before children)."""

    now: datetime
    tables: dict[str, pd.DataFrame]
    segment_at_start: np.ndarray
    """Each conversation's segment id when it started; 0 for anonymous conversations."""


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p)]


def _times(base: datetime, seconds: np.ndarray) -> np.ndarray:
    """`base` plus `seconds` (NaN stays NaT), as naive UTC datetime64[us]."""
    start = np.datetime64(base.replace(tzinfo=None), "us")
    out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[us]")
    known = ~np.isnan(seconds)
    out[known] = start + (seconds[known] * 1e6).astype("timedelta64[us]")
    return out


def generate(
    conversations: int,
    messages_per_conversation: float,
    seed: int = 0,
    days: int = 180,
    now: datetime | None = None,
) -> Dataset:
    """Draw the whole data set; `now` is when the last conversation may end."""
    rng = np.random.default_rng(seed)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    origin = now - timedelta(days=days)
    n_cust = max(10, conversations * 2 // 5)
    customers = pd.DataFrame(
        {
            "id": np.arange(1, n_cust + 1),
            "name": [f"Customer {i}" for i in range(1, n_cust + 1)],
            "created_at": _times(origin, -rng.uniform(30, 2000, n_cust) * DAY_S),
        }
    )
    seg_of = rng.choice(len(SEGMENTS), size=n_cust, p=SEGMENT_SHARE)
    segments = pd.DataFrame(
        {
            "id": np.arange(1, len(SEGMENTS) + 1),
            "name": SEGMENTS,
            "description": [f"{name} customers" for name in SEGMENTS],
            "method": "kmeans",
            "profile": "{}",
            "size": np.bincount(seg_of, minlength=len(SEGMENTS)),
            "created_at": _times(origin, np.full(len(SEGMENTS), -20 * DAY_S)),
        }
    )
    moved = rng.random(n_cust) < 0.25
    half = days / 2 * DAY_S
    earlier = (seg_of + rng.integers(1, len(SEGMENTS), n_cust)) % len(SEGMENTS)
    first = np.full(n_cust, -20 * DAY_S)
    assignments = pd.DataFrame(
        {
            "customer_id": np.concatenate([customers.id[moved], customers.id]),
            "segment_id": np.concatenate([earlier[moved], seg_of]) + 1,
            "valid_from": _times(
                origin, np.concatenate([first[moved], np.where(moved, half, first)])
            ),
            "valid_to": _times(
                origin, np.concatenate([np.full(moved.sum(), half), np.full(n_cust, np.nan)])
            ),
        }
    )
    staff = pd.DataFrame(
        {
            "id": np.arange(1, AGENTS + 3),
            "username": [f"agent{i}" for i in range(1, AGENTS + 1)] + ["supervisor1", "admin1"],
            "password_hash": "bench-not-a-password",
            "role": ["agent"] * AGENTS + ["supervisor", "admin"],
            "active": True,
            "created_at": _times(origin, np.full(AGENTS + 2, -30 * DAY_S)),
        }
    )
    seg_at = (seg_of, np.where(moved, earlier, seg_of), half)
    draw = _conversations(rng, conversations, n_cust, seg_at, days)
    messages, times = _messages(rng, draw, messages_per_conversation, days * DAY_S)
    tickets = _tickets(rng, draw, times, days * DAY_S)
    live = np.zeros(conversations, dtype=bool)
    live[tickets["conversation_index"]] = tickets["status"] != "resolved"
    conv = pd.DataFrame(
        {
            "id": draw["id"],
            "customer_id": pd.array(draw["customer"], dtype="Int64"),
            "channel": draw["channel"],
            "status": np.where(live, "handoff", "closed"),
            "started_at": _times(origin, times["start"]),
            "last_message_at": _times(origin, times["end"]),
        }
    )
    feedback = _feedback(rng, draw, times, days * DAY_S)
    for frame in (messages, tickets, feedback):
        for column in [c for c in frame.columns if c.endswith("_s")]:
            frame[column[:-2]] = _times(origin, frame.pop(column).to_numpy(dtype=float))
    job_runs = pd.DataFrame(
        {
            "id": [TOPICS_RUN],
            "job": ["topics"],
            "status": ["succeeded"],
            "trigger": ["cli"],
            "started_at": _times(now, np.array([-3600.0])),
            "heartbeat_at": _times(now, np.array([-3000.0])),
            "finished_at": _times(now, np.array([-3000.0])),
        }
    )
    tables = {
        "customers": customers,
        "segments": segments,
        "segment_assignments": assignments,
        "staff_users": staff,
        "job_runs": job_runs,
        "conversations": conv,
        "messages": messages,
        "tickets": tickets.drop(columns="conversation_index"),
        "bot_feedback": feedback,
    }
    segment_at_start = np.where(np.isnan(draw["customer"]), 0, draw["seg"] + 1)
    return Dataset(now, tables, segment_at_start)


def _conversations(
    rng: np.random.Generator, count: int, n_cust: int, seg_at: tuple, days: int
) -> dict[str, np.ndarray]:
    """Who, when, where and how each conversation goes (its per-conversation draws)."""
    current, before, half = seg_at
    known = rng.random(count) < 0.85
    activity = rng.lognormal(0, 0.8, n_cust)
    who = rng.choice(n_cust, size=count, p=activity / activity.sum())
    day = rng.integers(0, days, count)
    hour = np.clip(rng.normal(14, 3.5, count), 0, 23.9)
    start = day * DAY_S + hour * 3600
    seg = np.where(start < half, before[who], current[who])
    seg = np.where(known, seg, rng.choice(len(SEGMENTS), size=count, p=SEGMENT_SHARE))
    handed = rng.random(count) < SEGMENT_HANDOFF[seg]
    zipf = 1 / np.arange(1, len(BANKING) + 1) ** 0.9
    return {
        "id": np.array([f"bench-{i:07d}" for i in range(count)], dtype=object),
        "customer": np.where(known, who + 1.0, np.nan),
        "channel": _pick(rng, CHANNELS, count, CHANNEL_SHARE),
        "start": start,
        "seg": seg,
        "mood": SEGMENT_MOOD[seg] + rng.normal(0, 0.25, count) - 0.25 * handed,
        "handed": handed,
        "reason": _pick(rng, REASONS, count, (0.45, 0.25, 0.2, 0.1)),
        "main": _pick(rng, BANKING, count, zipf / zipf.sum()),
    }


def _messages(
    rng: np.random.Generator, draw: dict[str, np.ndarray], per_conversation: float, end_s: float
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every message, and per conversation the times (seconds after the origin) tickets need."""
    count = len(draw["id"])
    handed = draw["handed"]
    length = 2 + rng.poisson(max(per_conversation - 2, 0), count)
    length = np.where(handed, np.maximum(length, 4), length)
    handoff = np.where(handed, 2 * np.floor(rng.random(count) * ((length - 2) // 2)), 1e9)
    recent = draw["start"] > end_s - 2 * DAY_S
    unanswered = handed & recent & (rng.random(count) < 0.2)
    length = np.where(unanswered, handoff + 2, length).astype(int)
    conv = np.repeat(np.arange(count), length)
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]])
    pos = np.arange(len(conv)) - offsets[conv]
    h = handoff[conv]
    after = pos - h
    sender = np.where(
        pos <= h,
        np.where(pos % 2 == 0, "customer", "bot"),
        np.where(after == 1, "bot", np.where(after % 2 == 0, "agent", "customer")),
    ).astype(object)
    n = len(conv)
    queue = rng.lognormal(np.log(300), 0.9, count)
    reply = rng.uniform(20, 180, count)
    gap = np.select(
        [
            pos == 0,
            sender == "bot",
            (sender == "agent") & (after == 2),
            sender == "agent",
            (pos > 0) & (np.roll(sender, 1) == "agent"),
        ],
        [
            0.0,
            rng.uniform(0.5, 3, n),
            (queue + reply)[conv],
            rng.lognormal(np.log(90), 0.7, n),
            rng.lognormal(np.log(60), 0.7, n),
        ],
        rng.lognormal(np.log(35), 0.6, n),
    )
    elapsed = np.cumsum(gap)
    elapsed -= np.repeat(elapsed[offsets], length)
    end = draw["start"] + elapsed[offsets + length - 1]
    start = draw["start"] - np.maximum(0.0, end - (end_s - 60))
    at = start[conv] + elapsed
    intent = _intents(rng, draw, conv, pos, h, sender)
    customer = sender == "customer"
    fallback = intent == "nlu_fallback"
    confidence = np.where(
        fallback,
        rng.uniform(0.05, 0.3, n),
        np.where(rng.random(n) < 0.04, rng.uniform(0.3, 0.5, n), 1 - rng.beta(1.2, 12, n)),
    )
    sentiment = np.clip(draw["mood"][conv] + rng.normal(0, 0.3, n), -1, 1)
    sentiment = np.where(intent == "frustrated", np.minimum(sentiment, -0.5), sentiment)
    channel = np.where(sender == "agent", "console", draw["channel"][conv]).astype(object)
    ids = draw["id"][conv]
    messages = pd.DataFrame(
        {
            "conversation_id": ids,
            "event_key": [f"{c}-{p}" for c, p in zip(ids.tolist(), pos.tolist(), strict=True)],
            "seq": pos.astype(float),
            "sender": sender,
            "text": _texts(rng, intent, sender),
            "intent": np.where(customer, intent, None),
            "confidence": np.where(customer, confidence, np.nan),
            "sentiment": np.where(customer, sentiment, np.nan),
            "channel": channel,
            "created_at_s": at,
        }
    )
    first_agent = np.full(count, np.nan)
    agent_rows = np.flatnonzero((sender == "agent") & (after == 2))
    first_agent[conv[agent_rows]] = at[agent_rows]
    handoff_rows = np.flatnonzero(pos == h)
    handoff_at = np.full(count, np.nan)
    handoff_at[conv[handoff_rows]] = at[handoff_rows] + 1
    times = {
        "start": start,
        "end": start + elapsed[offsets + length - 1],
        "handoff": handoff_at,
        "first_agent": first_agent,
        "reply": reply,
        "text": np.asarray(messages["text"], dtype=object)[offsets],
    }
    return messages, times


def _intents(rng, draw, conv, pos, h, sender) -> np.ndarray:
    """Customer intents: an opening greeting or the topic, then the topic, small talk,
    other banking intents and fallbacks; the handoff message says why it was handed over."""
    n = len(conv)
    main = draw["main"][conv]
    options = ("main", "inform", "affirm", "deny", "thanks", "nlu_fallback", "other")
    kind = _pick(rng, options, n, (0.45, 0.15, 0.08, 0.05, 0.06, 0.09, 0.12))
    chat_apps = np.isin(draw["channel"][conv], ("telegram", "whatsapp"))
    kind = np.where(chat_apps & (rng.random(n) < 0.05), "nlu_fallback", kind)
    intent = np.where(kind == "main", main, kind).astype(object)
    other = kind == "other"
    intent[other] = _pick(rng, BANKING, int(other.sum()))
    opening = pos == 0
    intent[opening] = np.where(rng.random(int(opening.sum())) < 0.35, "greet", main[opening])
    reason = draw["reason"][conv]
    at_handoff = pos == h
    for name, value in (*REASON_INTENT.items(), ("repeated_fallback", "nlu_fallback")):
        picked = at_handoff & (reason == name)
        intent[picked] = value
        if name == "repeated_fallback":
            intent[picked & (pos >= 2)] = value
            before = np.flatnonzero(picked & (pos >= 2)) - 2
            intent[before] = value
    intent[sender != "customer"] = None
    return intent


def _texts(rng: np.random.Generator, intent: np.ndarray, sender: np.ndarray) -> np.ndarray:
    """Message text by intent (customers) or role (bot, agent), with a few phrasings each."""
    choice = rng.integers(0, 1 << 20, len(intent))
    text = np.empty(len(intent), dtype=object)
    fixed = {
        **{name: (f"question about {name.replace('_', ' ').lower()}",) for name in BANKING},
        **PHRASES,
        **SMALL_TALK,
        "ask_for_human": ("i want to talk to a person", "can i speak to someone real"),
        "frustrated": ("this is useless", "you are not helping at all"),
        "nlu_fallback": tuple(p.format(w) for p in FALLBACK_PHRASES for w in FALLBACK_WORDS),
    }
    roles = {
        "bot": ("Here is what I can tell you.", "Could you tell me a bit more?"),
        "agent": ("Let me check that for you.", "I have sorted that out now.", "Anything else?"),
    }
    for key, values in list(fixed.items()) + list(roles.items()):
        rows = np.flatnonzero(intent == key) if key not in roles else np.flatnonzero(sender == key)
        text[rows] = np.asarray(values, dtype=object)[choice[rows] % len(values)]
    return text


def _tickets(rng, draw, times, end_s: float) -> pd.DataFrame:
    """The handoff ticket of every handed-off conversation: queue, claim, resolution, CSAT, SLA."""
    index = np.flatnonzero(draw["handed"])
    count = len(index)
    created = times["handoff"][index]
    first_agent = times["first_agent"][index]
    claimed = first_agent - times["reply"][index]
    resolved = times["end"][index] + rng.uniform(60, 900, count)
    answered = ~np.isnan(first_agent)
    done = answered & (resolved < end_s)
    status = np.where(done, "resolved", np.where(answered, "claimed", "open"))
    seg = draw["seg"][index]
    rated = done & (rng.random(count) < 0.55)
    score = np.clip(np.rint(3.7 + 1.5 * draw["mood"][index] + rng.normal(0, 1, count)), 1, 5)
    reason = draw["reason"][index]
    return pd.DataFrame(
        {
            "conversation_index": index,
            "conversation_id": draw["id"][index],
            "customer_id": pd.array(draw["customer"][index], dtype="Int64"),
            "kind": "handoff",
            "category": draw["main"][index],
            "status": status,
            "priority": np.array([2, 3, 3, 1, 4])[seg],
            "subject": [f"Handoff: {m}" for m in draw["main"][index]],
            "text": times["text"][index],
            "packet": [
                f'{{"reason": "{r}", "summary": "Customer asked about {m}"}}'
                for r, m in zip(reason, draw["main"][index], strict=True)
            ],
            "assigned_to": pd.array(
                np.where(answered, rng.integers(1, AGENTS + 1, count), np.nan), dtype="Int64"
            ),
            "created_at_s": created,
            "claimed_at_s": np.where(answered, claimed, np.nan),
            "resolved_at_s": np.where(done, resolved, np.nan),
            "csat": pd.array(np.where(rated, score, np.nan), dtype="Int64"),
            "csat_at_s": np.where(rated, resolved + 120, np.nan),
            "due_at_s": np.where(
                rng.random(count) < 0.95, created + SLA_MINUTES[seg] * 60.0, np.nan
            ),
        }
    )


def _feedback(rng, draw, times, end_s: float) -> pd.DataFrame:
    """Bot ratings left at the end of some contained conversations."""
    index = np.flatnonzero(~draw["handed"] & (rng.random(len(draw["id"])) < 0.06))
    count = len(index)
    score = np.clip(np.rint(4 + 1.2 * draw["mood"][index] + rng.normal(0, 1, count)), 1, 5)
    return pd.DataFrame(
        {
            "conversation_id": draw["id"][index],
            "customer_id": pd.array(draw["customer"][index], dtype="Int64"),
            "score": score.astype(int),
            "rasa_message_id": [f"feedback-{c}" for c in draw["id"][index]],
            "created_at_s": np.minimum(times["end"][index] + 10, end_s - 1),
        }
    )
