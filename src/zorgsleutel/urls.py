from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language

from zorgsleutel.api import api
from zorgsleutel.cards.api import api as card_api
from zorgsleutel.mobileapp.api import api as app_api

urlpatterns = [
    path("", include("zorgsleutel.web.urls")),
    path("", include("zorgsleutel.accounts.urls")),
    path("", include("zorgsleutel.authn.urls")),
    path("", include("zorgsleutel.mobileapp.urls")),
    path("", include("zorgsleutel.organisations.urls")),
    path("", include("zorgsleutel.cards.urls")),
    path("", include("zorgsleutel.smartcards.urls")),
    path("", include("zorgsleutel.smartcards.order_urls")),
    path("", include("zorgsleutel.smartcards.status_urls")),
    path("", include("zorgsleutel.oidc.urls")),
    path("operator/", include("zorgsleutel.organisations.console_urls")),
    path("operator/", include("zorgsleutel.smartcards.order_console_urls")),
    path("operator/", include("zorgsleutel.oidc.console_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("api/app/v1/", app_api.urls),
    path("api/card/v1/", card_api.urls),
]
if "zorgsleutel.devtools" in settings.INSTALLED_APPS:  # installed only with DEBUG; views re-check
    urlpatterns.append(path("dev/", include("zorgsleutel.devtools.urls")))

handler400 = "zorgsleutel.web.views.bad_request"
handler403 = "zorgsleutel.web.views.permission_denied"
handler404 = "zorgsleutel.web.views.page_not_found"
handler500 = "zorgsleutel.web.views.server_error"
