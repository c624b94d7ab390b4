"""Rasa input channels with the input checks customers' clients need."""
