"""What the similar-ticket index takes in and gives back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ticket:
    """A resolved ticket: what the customer wrote, how it was resolved, its category if any."""

    ticket_id: str
    text: str
    resolution: str
    label: str | None = None


@dataclass(frozen=True)
class Match:
    """One similar ticket; `matched_terms` are the query lemmas that added most to its score.

    `label` is the ticket's category, or the predicted one for a ticket indexed without it."""

    ticket_id: str
    score: float
    text: str
    resolution: str
    matched_terms: tuple[str, ...]
    label: str | None
