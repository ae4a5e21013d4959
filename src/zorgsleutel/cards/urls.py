from django.urls import path

from zorgsleutel.cards import views

app_name = "cards"
urlpatterns = [path("uzi/tls/<str:challenge_id>", views.tls_present, name="tls_present")]
