"""The CRM store: customers, cards, transactions, conversations, messages, tickets, staff."""
