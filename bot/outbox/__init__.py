"""The turn path's durable outbox: every CRM write Rasa makes is appended to a local SQLite
file first, and a relay thread delivers it (to the CRM store, or to RabbitMQ for `crm drain`)
with retries. At-least-once delivery plus the store's idempotent insert is exactly once."""
