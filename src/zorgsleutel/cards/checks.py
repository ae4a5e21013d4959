"""Start-up checks of the UZI settings: a mistake shows at `zorgsleutel check` / start-up, not as
a 500 when the first card arrives."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def uzi_settings(app_configs, **kwargs):
    from zorgsleutel.core import clientcert

    problems = []
    try:
        clientcert.trusted_proxy_networks()
    except ImproperlyConfigured as exc:
        problems.append(checks.Error(str(exc), id="zorgsleutel.E101"))
    trust_dir = Path(settings.UZI_TRUST_DIR)
    if not settings.DEBUG and not any(trust_dir.glob("*")):
        problems.append(
            checks.Warning(
                f"UZI_TRUST_DIR {trust_dir} holds no certificates: no UZI card can be accepted.",
                id="zorgsleutel.W102",
            )
        )
    return problems
