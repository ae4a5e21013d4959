"""The cards app keeps no rows of its own: its challenges are authn's cross-device challenges
(authn/models.py, kind "card")."""
