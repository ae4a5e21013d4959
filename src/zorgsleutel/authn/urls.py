from django.urls import path

from zorgsleutel.authn import views

app_name = "authn"
urlpatterns = [
    path("wachten/<str:challenge_id>", views.challenge_status, name="challenge_status"),
]
