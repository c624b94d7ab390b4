"""The CRM's vocabulary: every status, role, reason and sender, defined once.

Models, store, API, OpenAPI document and the console's JavaScript (served as
`/static/lib/enums.js`) all read these; no other module spells the values out.
"""

from __future__ import annotations

from enum import Enum


class Vocabulary(str, Enum):
    """A string enum: stored, compared and sent as JSON as its plain value."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


class ConversationStatus(Vocabulary):
    BOT = "bot"
    HANDOFF = "handoff"
    CLOSED = "closed"


class TicketStatus(Vocabulary):
    """Every ticket is open or resolved; handoffs are claimed by an agent in between."""

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class TicketKind(Vocabulary):
    HANDOFF = "handoff"
    LOST_CARD = "lost_card"


class HandoffReason(Vocabulary):
    CUSTOMER_REQUEST = "customer_request"
    FRUSTRATION = "frustration"
    REPEATED_FALLBACK = "repeated_fallback"
    SEGMENT_STRATEGY = "segment_strategy"
    """The customer's segment strategy handed over earlier than the default rules would."""


class StaffRole(Vocabulary):
    """Ordered by rank: a role may do everything the roles before it may do."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(StaffRole).index(self)

    def allows(self, required: StaffRole) -> bool:
        return self.rank >= required.rank


class Sender(Vocabulary):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"


class CardStatus(Vocabulary):
    """A card goes ordered -> shipped -> delivered -> active, and may be blocked at any point."""

    ORDERED = "ordered"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ACTIVE = "active"
    BLOCKED = "blocked"


class AuditAction(Vocabulary):
    """What a staff member did, as the audit log records it."""

    READ_CONVERSATION = "read_conversation"
    LIST_CONVERSATIONS = "list_conversations"
    READ_CUSTOMER = "read_customer"
    ISSUE_WIDGET_TOKEN = "issue_widget_token"
    CLAIM_HANDOFF = "claim_handoff"
    REPLY_HANDOFF = "reply_handoff"
    RESOLVE_HANDOFF = "resolve_handoff"
    RELEASE_HANDOFF = "release_handoff"
    REASSIGN_HANDOFF = "reassign_handoff"
    CREATE_STAFF = "create_staff"
    UPDATE_STAFF = "update_staff"
    LOGIN = "login"
    LOGOUT = "logout"
    READ_AUDIT = "read_audit"
    SEARCH_TICKETS = "search_tickets"
    LIST_CUSTOMERS = "list_customers"
    RUN_JOB = "run_job"
    UPDATE_STRATEGY = "update_strategy"
    READ_ANALYTICS = "read_analytics"
    EXPORT_ANALYTICS = "export_analytics"
    REVIEW_FLAG = "review_flag"
    LABEL_MESSAGE = "label_message"
    ERASE_CUSTOMER = "erase_customer"


class Product(Vocabulary):
    """What a customer can hold; the association rules mine these."""

    CURRENT_ACCOUNT = "current_account"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    OVERDRAFT = "overdraft"
    PERSONAL_LOAN = "personal_loan"
    MORTGAGE = "mortgage"
    HOME_INSURANCE = "home_insurance"
    TRAVEL_INSURANCE = "travel_insurance"
    TRAVEL_MONEY = "travel_money"
    INVESTMENTS = "investments"


class ContactChannel(Vocabulary):
    """How a customer got in touch; the preferred-channel job learns from these."""

    CHAT = "chat"
    PHONE = "phone"
    EMAIL = "email"
    BRANCH = "branch"


class Tone(Vocabulary):
    """How the bot words its answers for a segment."""

    WARM = "warm"
    REASSURING = "reassuring"
    CONCISE = "concise"
    WELCOMING = "welcoming"


class SegmentTrait(Vocabulary):
    """What a segment's centroid says about its customers, relative to everyone: the words
    its generated name is made of, and what its default strategy is derived from."""

    HIGH_VALUE = "high_value"
    LOW_VALUE = "low_value"
    NEW = "new"
    LONG_STANDING = "long_standing"
    ACTIVE = "active"
    DORMANT = "dormant"
    AT_RISK = "at_risk"
    SATISFIED = "satisfied"
    DIGITAL = "digital"
    """Gets in touch by chat."""
    PREFERS_PHONE = "prefers_phone"
    PREFERS_EMAIL = "prefers_email"
    PREFERS_BRANCH = "prefers_branch"


class JobStatus(Vocabulary):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobTrigger(Vocabulary):
    CLI = "cli"
    API = "api"
    SCHEDULE = "schedule"
    SETUP = "setup"
    """The first start ran the jobs once on the freshly seeded demo data."""


class FlagKind(Vocabulary):
    """Why a conversation was put in the quality review queue (docs/metrics.md)."""

    NEGATIVE_END = "negative_end"
    LONG_WAIT = "long_wait"
    REPEATED_FALLBACK = "repeated_fallback"
    LOW_CSAT = "low_csat"
    UNRESOLVED_HANDOFF = "unresolved_handoff"
    SLOW_AGENT_REPLY = "slow_agent_reply"


class FlagStatus(Vocabulary):
    OPEN = "open"
    REVIEWED = "reviewed"


class ReviewOutcome(Vocabulary):
    """A reviewer's verdict on a flagged conversation."""

    NO_ISSUE = "no_issue"
    AGENT_COACHING = "agent_coaching"
    BOT_MISUNDERSTOOD = "bot_misunderstood"
    """The bot's customer messages of the conversation go to the NLU inbox (source review)."""
    PROCESS_GAP = "process_gap"


class InboxSource(Vocabulary):
    """Why a customer message is in the NLU improvement inbox."""

    LOW_CONFIDENCE = "low_confidence"
    FALLBACK = "fallback"
    REVIEW = "review"


class InboxStatus(Vocabulary):
    OPEN = "open"
    LABELLED = "labelled"
    """A supervisor gave the right intent; the next `retrain` run trains on it."""
    TRAINED = "trained"
    """A `retrain` run trained on the label and loaded the model into the running bot."""
    DISMISSED = "dismissed"
    """Not a bot error: never training data."""


class DeliveryKind(Vocabulary):
    """A call the console owes Rasa, recorded before it is made (bot/crm/store/deliveries.py)."""

    AGENT_MESSAGE = "agent_message"
    RESUME = "resume"
    RATING_PROMPT = "rating_prompt"


class DeliveryStatus(Vocabulary):
    """`pending` until Rasa confirmed it; `failed` once retries are exhausted or it is moot."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


SHARED_WITH_CONSOLE: tuple[type[Vocabulary], ...] = (
    ConversationStatus,
    TicketStatus,
    TicketKind,
    HandoffReason,
    StaffRole,
    Sender,
    Product,
    ContactChannel,
    Tone,
    SegmentTrait,
    JobStatus,
    JobTrigger,
    FlagKind,
    FlagStatus,
    ReviewOutcome,
    InboxSource,
    InboxStatus,
    DeliveryKind,
    DeliveryStatus,
)
