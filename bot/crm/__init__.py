"""The CRM: customers, cards, payments, conversations, tickets and staff, kept in one database.

`enums` is its vocabulary, `models` and `migrations` its schema, `store` the one place that
reads and writes it, `seed` the demo data and `ticket_search` the index of resolved tickets.
"""
