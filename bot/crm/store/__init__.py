"""The one place that reads and writes the CRM store, one module per domain.

`CRMStore` bundles the domains over one engine for callers that need several of them
(`store.handoffs.claim(...)`); a caller that needs one domain may build just that store.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.crm.store.activity import ActivityStore
from bot.crm.store.audit import AuditStore
from bot.crm.store.base import Conflict, InvalidCursor, NotFound
from bot.crm.store.cleaning import CleaningStore
from bot.crm.store.conversations import ConversationStore
from bot.crm.store.customer_view import CustomerViewStore
from bot.crm.store.customers import CustomerStore
from bot.crm.store.deliveries import DeliveryStore
from bot.crm.store.erasure import ErasureStore
from bot.crm.store.facts import FactStore
from bot.crm.store.feedback import FeedbackStore
from bot.crm.store.handoffs import HandoffStore
from bot.crm.store.insights import InsightStore
from bot.crm.store.jobs import JobRunStore
from bot.crm.store.metrics import MetricStore
from bot.crm.store.nlu_inbox import InboxStore
from bot.crm.store.quality import QualityStore
from bot.crm.store.records import AuditEntry, CardInfo, MessageRecord, StaffInfo
from bot.crm.store.segments import SegmentStore
from bot.crm.store.sessions import SessionStore
from bot.crm.store.staff import StaffStore
from bot.crm.store.strategies import StrategyStore
from bot.crm.store.tickets import TicketStore
from bot.crm.store.topics import TopicStore

__all__ = [
    "AuditEntry",
    "CardInfo",
    "Conflict",
    "CRMStore",
    "InvalidCursor",
    "MessageRecord",
    "NotFound",
    "StaffInfo",
]


class CRMStore:
    """Every domain of the CRM store over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conversations = ConversationStore(engine)
        self.customers = CustomerStore(engine)
        self.cleaning = CleaningStore(engine)
        self.customer_view = CustomerViewStore(engine)
        self.tickets = TicketStore(engine)
        self.handoffs = HandoffStore(engine)
        self.deliveries = DeliveryStore(engine)
        self.erasure = ErasureStore(engine)
        self.staff = StaffStore(engine)
        self.sessions = SessionStore(engine)
        self.audit = AuditStore(engine)
        self.feedback = FeedbackStore(engine)
        self.insights = InsightStore(engine)
        self.strategies = StrategyStore(engine)
        self.jobs = JobRunStore(engine)
        self.activity = ActivityStore(engine)
        self.segments = SegmentStore(engine)
        self.facts = FactStore(engine)
        self.metrics = MetricStore(engine)
        self.quality = QualityStore(engine)
        self.inbox = InboxStore(engine)
        self.topics = TopicStore(engine)

    def ping(self) -> None:
        """Raise if the database cannot be reached; the health check calls it."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()
