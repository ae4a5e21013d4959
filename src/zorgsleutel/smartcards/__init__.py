"""Zorgsleutel smartcards: the CA that issues care workers' card certificates.

The certificate profile and the CA's keys: docs/smartcards.md.
"""
