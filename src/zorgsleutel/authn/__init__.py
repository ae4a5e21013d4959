"""Authentication: the login means (means.py), the one way into a session (sessions.py), the
password + SMS login (password.py), its throttle and device cookies, the pending-code step
(pending.py) and the vault's errors as people read them. It knows no capability: they register
their means here (docs/architecture.md)."""
