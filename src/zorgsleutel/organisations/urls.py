from django.urls import path

from zorgsleutel.organisations import views

app_name = "organisations"
urlpatterns = [
    path("organisatie/voorbereiding", views.prepare, name="prepare"),
    path("organisatie/aanmelden", views.apply, name="apply"),
    path("organisatie/aangemeld", views.applied, name="applied"),
    path("organisatie/valideren", views.validate_start, name="validate_start"),
    path("organisatie/valideren/<str:token>", views.validate, name="validate"),
    path("organisatie/gevalideerd", views.validated, name="validated"),
    path("organisatie/gevalideerd/app", views.validate_app, name="validate_app"),
    path("help", views.help_index, name="help"),
    path("help/administrator", views.help_administrator, name="help_administrator"),
    path("help/beheerder", views.help_manager, name="help_manager"),
]
