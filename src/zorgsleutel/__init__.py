"""Zorgsleutel: identity and access portal for Dutch care organisations."""
