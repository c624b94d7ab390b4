"""The values the CRM store takes and gives.

Reads that feed the console's JSON API are `TypedDict`s: they are sent as they are, so their
keys are the API's. Values that business code works with are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from bot.crm.enums import (
    AuditAction,
    CardStatus,
    ConversationStatus,
    Sender,
    StaffRole,
    TicketStatus,
)

if TYPE_CHECKING:
    from bot.crm.models import StaffUser


@dataclass(frozen=True)
class MessageRecord:
    """A message as delivered by Rasa's event stream, before it is stored."""

    conversation_id: str
    event_key: str
    seq: float
    sender: Sender
    text: str | None
    created_at: datetime
    channel: str | None = None
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] | None = None
    rasa_message_id: str | None = None
    customer_id: int | None = None
    sentiment: float | None = None


@dataclass(frozen=True)
class CardInfo:
    id: int
    last_four: str
    brand: str
    kind: str
    status: CardStatus
    shipped_at: datetime | None
    expected_delivery: datetime | None


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    role: StaffRole
    active: bool

    @classmethod
    def of(cls, user: StaffUser) -> StaffInfo:
        return cls(
            id=user.id, username=user.username, role=StaffRole(user.role), active=user.active
        )


class MessageView(TypedDict):
    id: int
    sender: Sender
    text: str | None
    data: dict[str, Any] | None
    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]]
    sentiment: float | None
    channel: str | None
    created_at: str


class AgentMessage(MessageView):
    """An agent's reply as the console sends it back: the message and where it went."""

    conversation_id: str


class FeedMessage(MessageView):
    """A message in a live feed, with the handoff it belongs to."""

    handoff_id: int
    conversation_id: str


class ConversationFields(TypedDict):
    id: str
    customer_id: int | None
    channel: str | None
    status: ConversationStatus
    started_at: str
    last_message_at: str


class ConversationSummary(ConversationFields):
    message_count: int


class HandoffState(TypedDict):
    """Where a conversation's latest handoff stands."""

    ticket_id: int
    status: TicketStatus
    assigned_to: int | None


class ConversationDetail(ConversationFields):
    handoff: HandoffState | None
    messages: list[MessageView]


class HandoffView(TypedDict):
    id: int
    conversation_id: str | None
    customer_id: int | None
    status: TicketStatus
    category: str | None
    priority: int
    subject: str
    text: str
    packet: dict[str, Any] | None
    assigned_to: int | None
    resolution: str | None
    csat: int | None
    created_at: str
    claimed_at: str | None
    resolved_at: str | None
    due_at: str | None
    """When a person should have answered, by the customer's segment strategy's SLA."""


class Changes(TypedDict):
    """What a live feed has not seen yet, and the ids to ask from next time."""

    messages: list[FeedMessage]
    handoffs: list[HandoffView]
    last_message_id: int
    last_ticket_id: int


class CardView(TypedDict):
    id: int
    last_four: str
    brand: str
    kind: str
    status: CardStatus
    expected_delivery: str | None


class CustomerProfile(TypedDict):
    id: int
    name: str
    email: str | None
    phone: str | None
    city: str | None
    created_at: str
    cards: list[CardView]


class SegmentView(TypedDict):
    id: int
    name: str
    description: str


class StrategyView(TypedDict):
    """How the customer is served: their segment's strategy, or the default one (`default`)."""

    tone: str
    greeting: str
    offers: list[str]
    priority: int
    handoff_threshold: float
    sla_minutes: int
    default: bool


class RiskView(TypedDict):
    """The risk job's calibrated score and the features that pushed it up."""

    score: float
    drivers: list[Any]
    at_risk: bool


class ChannelView(TypedDict):
    channel: str
    confidence: float | None


class HoldingView(TypedDict):
    product: str
    opened_at: str


class CrossSellHint(TypedDict):
    """A product the customer lacks that holders of `because` tend to have too."""

    product: str
    because: list[str]
    confidence: float
    lift: float


class CrossSell(TypedDict):
    """Hints for the agent, or none and why (`withheld`) when selling would be wrong now."""

    hints: list[CrossSellHint]
    withheld: str | None


class CustomerView(TypedDict):
    """What the batch jobs concluded about a customer, as an agent should act on it."""

    segment: SegmentView | None
    strategy: StrategyView
    risk: RiskView | None
    preferred_channel: ChannelView | None
    holdings: list[HoldingView]
    cross_sell: CrossSell


class CustomerDetail(CustomerProfile, CustomerView):
    """A customer's profile with their view: what GET /api/v1/customers/{id} answers."""


class CustomerListItem(TypedDict):
    id: int
    name: str
    email: str | None
    city: str | None
    segment_id: int | None
    segment: str | None
    created_at: str


class Payment(TypedDict):
    id: int
    amount_cents: int
    currency: str
    counterparty: str
    status: str
    card_last_four: str
    created_at: datetime


class ResolvedTicket(TypedDict):
    """A solved case, as the similar-ticket index learns from it."""

    id: int
    text: str
    resolution: str
    category: str | None


class TicketText(TypedDict):
    text: str
    resolution: str | None


class AuditEntry(TypedDict):
    """One line of the audit log: who did what to which record, and when."""

    id: int
    at: str
    actor_id: int | None
    actor_username: str
    action: AuditAction
    target_type: str
    target_id: str
    customer_id: int | None
    detail: dict[str, Any] | None
