from django.urls import path

from zorgsleutel.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("beheer/<uuid:public_id>/aan-de-slag", views.next_steps, name="next_steps"),
]
