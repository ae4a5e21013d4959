from django.urls import path

from zorgsleutel.oidc import beheer_views, consent_views, logout_views, views

app_name = "oidc"
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("oidc/authorize", views.authorize, name="authorize"),
    path("oidc/token", views.token, name="token"),
    path("oidc/userinfo", views.userinfo, name="userinfo"),
    path("oidc/jwks", views.jwks, name="jwks"),
    path("oidc/revoke", views.revoke, name="revoke"),
    path("oidc/introspect", views.introspect, name="introspect"),
    path("oidc/logo/<uuid:public_id>", consent_views.logo, name="logo"),
    path("mijn/gekoppelde-applicaties", consent_views.linked, name="linked"),
    path(
        "mijn/gekoppelde-applicaties/<uuid:public_id>/intrekken",
        consent_views.withdraw,
        name="withdraw",
    ),
    path("oidc/logout", logout_views.end_session, name="logout"),
    # Beheer → Applicaties: an organisation's administrators and its own applications.
    path("beheer/<uuid:public_id>/applicaties", beheer_views.client_list, name="own_clients"),
    path("beheer/<uuid:public_id>/applicaties/nieuw", beheer_views.register, name="own_register"),
    path(
        "beheer/<uuid:public_id>/applicaties/<uuid:client_id>",
        beheer_views.client_detail,
        name="own_client",
    ),
    path(
        "beheer/<uuid:public_id>/applicaties/<uuid:client_id>/verwijderen",
        beheer_views.delete,
        name="own_delete",
    ),
]
