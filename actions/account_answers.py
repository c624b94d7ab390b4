"""What the bot looks up for each question about money moving, and how it words the answer.

Pure functions over the CRM's ledger records, so the answers can be read and tested without
Rasa: each intent names the transactions that answer it (`LOOKUPS`), what the customer is
told when some are found and when none are, and what they can do next. The facts quoted
(days, fees, app menus) are the ones the bot's static answers give in domain.yml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.formatting import day, money
from bot.crm.store.ledger import Movement, TransactionKind, TransactionStatus

K, S = TransactionKind, TransactionStatus
ALL_STATUSES = None
RECENT = timedelta(days=60)
ANY_AGE = None
"""Money still pending is listed however old it is: the longer it's stuck, the more the
customer needs to see it."""
PENDING_LIMIT = 10
"""At most this many items pending at any age, oldest first."""
STUCK_AFTER = timedelta(days=7)
"""Pending for longer than this is longer than anything should take, and is pointed out."""


@dataclass(frozen=True)
class Lookup:
    """The transactions that answer one intent, and the words around them."""

    kinds: tuple[TransactionKind, ...]
    statuses: tuple[TransactionStatus, ...] | None
    found: str
    """Heading of the list of what was found."""
    then: str
    """What the customer can do next, after the list."""
    none: str
    """The honest answer when the customer has none of these, with what they can do."""
    since: timedelta | None = RECENT
    """How far back to look; None: at any age (money still pending, however old), oldest
    first and bounded by a count, so the longest-stuck items are always shown."""


ASK_PERSON = "ask for a person and I'll connect you."
PERSON = "or " + ASK_PERSON
LOOKUPS: dict[str, Lookup] = {
    "pending_card_payment": Lookup(
        (K.CARD_PAYMENT,),
        (S.PENDING,),
        "These card payments are still pending:",
        "A pending payment is money the shop has reserved: most are completed or dropped within "
        "3 working days (hotels and car hire can hold it up to 7). Until then it can still "
        "change or disappear; if it's still pending after that, ask the shop to release it, "
        + PERSON,
        "None of your card payments is pending: every recent one has gone through. If a shop "
        "says you paid and you can't see it, it can take a few minutes to appear.",
        since=ANY_AGE,
    ),
    "reverted_card_payment": Lookup(
        (K.CARD_PAYMENT,),
        (S.REVERTED,),
        "These card payments were reversed, and the money is back in your balance:",
        "A reversal means the shop cancelled the payment, often because the order couldn't go "
        "ahead. If you still want what you bought, please pay again or check with the shop.",
        "None of your recent card payments has been reversed. When a shop cancels a payment "
        "the money usually shows back in your balance within 5 working days.",
    ),
    "pending_top_up": Lookup(
        (K.TOP_UP,),
        (S.PENDING,),
        "These top-ups are still pending:",
        "Card top-ups usually land in minutes, but your card's bank can hold one for up to 1 "
        "working day while it checks it: please don't top up again, or you may be charged twice. "
        "If it's still pending after a working day, " + ASK_PERSON,
        "None of your top-ups is pending: the recent ones have all completed or ended.",
        since=ANY_AGE,
    ),
    "top_up_reverted": Lookup(
        (K.TOP_UP,),
        (S.REVERTED,),
        "These top-ups were reversed:",
        "The bank of the card you topped up with pulled the money back, so it's no longer in "
        "your balance and you haven't lost it: it's back on that card within 3 to 5 working "
        "days. Check the card under Account → Top-up methods in the Northwind app and try "
        "again, or top up by bank transfer.",
        "None of your recent top-ups has been reversed.",
    ),
    "top_up_failed": Lookup(
        (K.TOP_UP,),
        (S.FAILED,),
        "These top-ups failed:",
        "Nothing was added for a failed top-up, and any money taken from your card comes back "
        "within 3 to 5 working days. It usually means the card's bank declined it, the card "
        "details are out of date or you hit your top-up limit: check the card under Account → "
        "Top-up methods in the Northwind app and try again.",
        "I can't see a failed top-up on your account recently. If one fails, check the card "
        "under Account → Top-up methods in the Northwind app and try again; any money taken "
        "for a failed top-up comes back within 3 to 5 working days.",
    ),
    "pending_cash_withdrawal": Lookup(
        (K.CASH_WITHDRAWAL,),
        (S.PENDING,),
        "These cash withdrawals are still pending:",
        "A withdrawal stays pending until the ATM's owner confirms it, usually within 2 working "
        "days; the money is already set aside. If the ATM gave you no cash, tell me or ask for "
        "a person and we'll claim it back.",
        "None of your cash withdrawals is pending: the recent ones have all completed.",
        since=ANY_AGE,
    ),
    "cash_withdrawal_not_recognised": Lookup(
        (K.CASH_WITHDRAWAL,),
        ALL_STATUSES,
        "Here are your recent cash withdrawals:",
        "If one of these wasn't you, someone may have your card or PIN: tell me your card is "
        "compromised and I'll block it straight away, then ask for a person to dispute the "
        "withdrawal.",
        "I can't see any cash withdrawal on your account in the last 60 days. If money is "
        "missing, ask for a person and we'll look into it.",
    ),
    "failed_transfer": Lookup(
        (K.TRANSFER_OUT,),
        (S.FAILED,),
        "These transfers failed:",
        "No money left your account for a failed transfer. It usually means the recipient's "
        "details were wrong or their bank was unavailable: check the details under Payments "
        "in the Northwind app and send it again, " + PERSON,
        "None of your recent transfers has failed.",
    ),
    "declined_transfer": Lookup(
        (K.TRANSFER_OUT,),
        (S.DECLINED,),
        "These transfers were declined:",
        "No money left your account for a declined transfer. Transfers are declined when "
        "they're over your limit, your balance was too low, or a security check stopped them; "
        "check Account → Limits in the Northwind app and try again, " + PERSON,
        "None of your recent transfers has been declined.",
    ),
    "pending_transfer": Lookup(
        (K.TRANSFER_OUT,),
        (S.PENDING,),
        "These transfers are still pending:",
        "Transfers can stay pending for up to 1 working day while they're checked; ones made "
        "at the weekend or on a bank holiday start on the next working day. You can cancel a "
        "pending transfer under Payments → History; if it's still pending after 2 working "
        "days, " + ASK_PERSON,
        "None of your transfers is pending: the recent ones have all completed or ended.",
        since=ANY_AGE,
    ),
    "transfer_timing": Lookup(
        (K.TRANSFER_OUT,),
        (S.PENDING, S.COMPLETED),
        "Your latest transfers:",
        "Transfers between Northwind accounts arrive instantly; to other UK banks they usually "
        "take up to 1 working day, and international ones 2 to 5 working days.",
        "You haven't sent a transfer in the last 60 days. Transfers between Northwind accounts "
        "arrive instantly; to other UK banks they usually take up to 1 working day, and "
        "international ones 2 to 5 working days.",
    ),
    "transfer_not_received_by_recipient": Lookup(
        (K.TRANSFER_OUT,),
        (S.PENDING, S.FAILED, S.DECLINED),
        "These transfers of yours haven't reached the recipient:",
        "A pending transfer is on its way: to other UK banks it usually takes up to 1 working "
        "day, and international ones 2 to 5 working days. No money left your account for a "
        "failed or declined one: check the recipient's details under Payments in the Northwind "
        "app and send it again. If a completed transfer still hasn't arrived, tap it under "
        "Payments → History and choose 'Share receipt' so the recipient can give their bank "
        "the reference, " + PERSON,
        "All your recent transfers have completed, so the money has left us. Transfers to other "
        "banks usually take up to 1 working day, international ones 2 to 5 working days: tap "
        "the transfer under Payments → History and choose 'Share receipt' so the recipient can "
        "give their bank the reference, " + PERSON,
    ),
    "direct_debit_payment_not_recognised": Lookup(
        (K.DIRECT_DEBIT,),
        ALL_STATUSES,
        "Here are your recent direct debits:",
        "A company sometimes collects under a different name from the one you know it by. If "
        "you still don't recognise one, cancel it under Payments → Direct debits in the "
        "Northwind app, and ask for a person to claim your money back under the Direct Debit "
        "Guarantee.",
        "I can't see any direct debit on your account in the last 60 days. If money was "
        "taken that you don't recognise, ask for a person and we'll look into it.",
    ),
    "extra_charge_on_statement": Lookup(
        (K.FEE,),
        ALL_STATUSES,
        "These are the fees we charged you recently:",
        "ATM withdrawals over the free £200 a month cost 2%, and payments in other currencies "
        "over your plan's allowance cost 1%. If a charge isn't one of these, it may be a card "
        "payment you don't recognise: ask me about it, " + PERSON,
        "We haven't charged you any fees in the last 60 days. If there's a charge you don't "
        "recognise, it may be a card payment or direct debit: ask me about it, " + PERSON,
    ),
    "Refund_not_showing_up": Lookup(
        (K.REFUND,),
        (S.PENDING, S.COMPLETED),
        "Here are the refunds on your account:",
        "A pending refund is on its way and lands within 5 to 10 working days of the shop "
        "issuing it. If one you're expecting isn't listed, ask the shop for the refund "
        "reference, " + PERSON,
        "I can't see a refund on your account in the last 60 days. Refunds usually arrive 5 "
        "to 10 working days after the shop issues them; if it's been longer, ask the shop for "
        "the refund reference, " + PERSON,
    ),
    "request_refund": Lookup(
        (K.REFUND,),
        (S.PENDING,),
        "These refunds are already on their way to you:",
        "For anything else, please ask the shop for a refund first; if it won't help, tap the "
        "payment in the Northwind app and choose 'Report an issue' to open a dispute.",
        "I can't see a refund on its way to you yet. Please ask the shop for the refund first; "
        "once they send it, it usually shows up within 5 to 10 working days. If the shop won't "
        "help, tap the payment in the Northwind app and choose 'Report an issue'.",
        since=ANY_AGE,
    ),
}
"""Every intent action_transactions_by_kind answers, with what it looks up."""

STATUS_WORDS = {
    S.PENDING: "pending",
    S.COMPLETED: "completed",
    S.REVERTED: "reversed",
    S.FAILED: "failed",
    S.DECLINED: "declined",
}


def describe(movement: Movement, with_status: bool) -> str:
    """One line of a list: "- 28 Nov 2026: to Priya Shah -£250.00 (failed)"."""
    who = movement.counterparty
    if movement.kind == K.TRANSFER_OUT:
        who = f"to {who}"
    elif movement.kind == K.TRANSFER_IN:
        who = f"from {who}"
    elif movement.kind == K.REFUND:
        who = f"refund from {who}"
    notes = []
    if movement.card_last_four:
        notes.append(f"card {movement.card_last_four}")
    if with_status:
        notes.append(STATUS_WORDS[movement.status])
    detail = f" ({', '.join(notes)})" if notes else ""
    amount = money(movement.amount_cents, movement.currency)
    return f"- {day(movement.created_at)}: {who} {amount}{detail}"


def movements_answer(
    lookup: Lookup, movements: Sequence[Movement], now: datetime | None = None
) -> list[str]:
    """The messages answering the customer: what the data shows, what has been pending for
    too long (given `now`), then what they can do."""
    if not movements:
        return [lookup.none]
    with_status = lookup.statuses is None or len(lookup.statuses) > 1
    lines = [describe(movement, with_status) for movement in movements]
    note = stuck_note(movements, now) if now is not None else None
    return [lookup.found + "\n" + "\n".join(lines), *([note] if note else []), lookup.then]


def stuck_note(
    movements: Sequence[Movement], now: datetime, advice: str = "please follow it up as below"
) -> str | None:
    """Points out the oldest item pending for longer than STUCK_AFTER; None when nothing is."""
    stuck = [m for m in movements if m.status == S.PENDING and now - m.created_at > STUCK_AFTER]
    if not stuck:
        return None
    oldest = min(stuck, key=lambda m: m.created_at)
    days = (now - oldest.created_at).days
    others = f" ({len(stuck)} items in all)" if len(stuck) > 1 else ""
    amount = money(abs(oldest.amount_cents), oldest.currency)
    return (
        f"The oldest, {oldest.counterparty} {amount} on {day(oldest.created_at)}, has been "
        f"pending for {days} days{others}: that's longer than it should take, so "
        f"{advice.rstrip('.')}."
    )


INCOMING_STATUSES = {
    S.PENDING: (
        "These transfers have reached us and are being checked; they're added to your balance "
        "once they clear, usually within 2 hours and at most 1 working day:"
    ),
    S.COMPLETED: "These transfers have arrived and are already in your balance:",
}
"""The heading for transfers in of each status that is, or is about to be, in the balance."""
INCOMING_NOT_ADDED = (
    "These transfers to you didn't go through or were sent back, so they aren't in your balance:",
    "Nothing was added to your balance for them. Ask the sender to check with their bank and "
    "to send the money again to the details in Account → Account details, " + PERSON,
)
"""For transfers in that failed, were declined or were reversed: none of them is in the
balance, whatever the customer expected."""
ASK_SENDER = (
    "If the one you're expecting isn't there, ask the sender to check they used the details in "
    "Account → Account details and to give you the payment reference; " + PERSON
)


def incoming_answer(transfers: Sequence[Movement]) -> list[str]:
    """Why a transfer in may not be in the balance yet: each transfer in we have, grouped by what
    its status means for the balance (being checked, in it, or never added)."""
    if not transfers:
        return [
            "I can't see any transfer into your account in the last 7 days. Transfers usually "
            "arrive within 2 hours and at most 1 working day (longer over weekends and bank "
            "holidays). Ask the sender to check they used the details in Account → Account "
            "details and to give you the payment reference; if it's been over a working day, "
            + ASK_PERSON
        ]
    messages = []
    for status, heading in INCOMING_STATUSES.items():
        these = [t for t in transfers if t.status == status]
        if these:
            lines = "\n".join(describe(t, with_status=False) for t in these)
            messages.append(heading + "\n" + lines)
    ended = [t for t in transfers if t.status not in INCOMING_STATUSES]
    if ended:
        heading, then = INCOMING_NOT_ADDED
        lines = "\n".join(describe(t, with_status=True) for t in ended)
        messages.append(heading + "\n" + lines + "\n" + then)
    elif not any(t.status == S.PENDING for t in transfers):
        messages.append(ASK_SENDER)
    return messages


def pending_note(pending: Sequence[Movement], now: datetime | None = None) -> str | None:
    """How pending money may still change the balance, totalled per currency (a customer may
    hold accounts in several), with the oldest item stuck for long (given `now`); None when
    nothing is pending."""
    if not pending:
        return None
    parts = []
    for currency in dict.fromkeys(m.currency for m in pending):
        amounts = [m.amount_cents for m in pending if m.currency == currency]
        going = -sum(cents for cents in amounts if cents < 0)
        coming = sum(cents for cents in amounts if cents > 0)
        if going:
            parts.append(f"{money(going, currency)} going out")
        if coming:
            parts.append(f"{money(coming, currency)} coming in")
    if len(parts) > 1:
        parts = [", ".join(parts[:-1]) + " and " + parts[-1]]
    totals = f" ({parts[0]})" if parts else ""
    note = (
        f"You also have pending transactions{totals} that aren't final yet; "
        "you can see each of them under Payments → History in the Northwind app."
    )
    stuck = stuck_note(pending, now, "ask me about it, " + PERSON) if now is not None else None
    return note if stuck is None else note + " " + stuck
