"""The staff console: the agents' page and JSON API, the demo site with the chat widget, health."""
