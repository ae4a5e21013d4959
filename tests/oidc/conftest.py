from sso import app, business, care, issuer, mira, operator  # noqa: F401
