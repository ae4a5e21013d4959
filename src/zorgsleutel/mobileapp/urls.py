from django.urls import path

from zorgsleutel.mobileapp import manage_views, views

app_name = "mobileapp"
urlpatterns = [
    path("inloggen/app", views.login_with_app, name="login"),
    path("mijn/app-koppelen", views.enrol, name="enrol"),
    path("mijn/apps", views.devices, name="devices"),
    path("mijn/apps/<str:device_id>/verwijderen", views.revoke, name="revoke"),
    path(
        "beheer/<uuid:public_id>/leden/<int:membership_id>/apps",
        manage_views.member_apps,
        name="member_apps",
    ),
]
