from django.urls import path

from zorgsleutel.organisations import console_views as views

app_name = "console"
urlpatterns = [
    path("", views.application_list, name="applications"),
    path("aanvragen/<uuid:public_id>", views.application_detail, name="application"),
    path("aanvragen/<uuid:public_id>/goedkeuren", views.approve, name="approve"),
    path("aanvragen/<uuid:public_id>/afwijzen", views.reject, name="reject"),
    path("aanvragen/<uuid:public_id>/nieuwe-link", views.renew_link, name="renew_link"),
    path("organisaties", views.organisation_list, name="organisations"),
    path("organisaties/<uuid:public_id>/schorsen", views.suspend, name="suspend"),
    path("organisaties/<uuid:public_id>/herstellen", views.reinstate, name="reinstate"),
    path("audit", views.platform_audit, name="audit"),
]
