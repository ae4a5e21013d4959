from django.urls import path

from zorgsleutel.oidc import console_views as views

app_name = "sso_console"
urlpatterns = [
    path("single-sign-on", views.client_list, name="clients"),
    path("single-sign-on/nieuw", views.register, name="register"),
    path("single-sign-on/<uuid:public_id>", views.client_detail, name="client"),
    path("single-sign-on/<uuid:public_id>/verwijderen", views.delete, name="delete"),
]
