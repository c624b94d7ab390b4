"""The staff console: JSON API, agent and supervisor pages, health."""
