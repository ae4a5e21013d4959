"""Presenting a UZI card: challenges signed by a card client, or a TLS client certificate."""
