from django.urls import path

from zorgsleutel.oidc import logout_views, views

app_name = "oidc"
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("oidc/authorize", views.authorize, name="authorize"),
    path("oidc/token", views.token, name="token"),
    path("oidc/userinfo", views.userinfo, name="userinfo"),
    path("oidc/jwks", views.jwks, name="jwks"),
    path("oidc/revoke", views.revoke, name="revoke"),
    path("oidc/introspect", views.introspect, name="introspect"),
    path("oidc/logout", logout_views.end_session, name="logout"),
]
