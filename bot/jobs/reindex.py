"""The similar-ticket index rebuilt from every resolved ticket (what `crm reindex` did alone)."""

from __future__ import annotations

from bot.crm.ticket_search import TicketSearch
from bot.jobs.base import JobContext, JobResult


class ReindexJob:
    name = "reindex"
    description = "Rebuild the similar-ticket index from every resolved ticket."

    def run(self, context: JobContext) -> JobResult:
        """The console reloads the index files when they change, so agents see the new index."""
        directory = context.settings.similar_index_dir
        indexed = TicketSearch(context.store.tickets, directory, writer=True).rebuild()
        return JobResult(rows={"tickets": indexed}, figures={"index_dir": str(directory)})
