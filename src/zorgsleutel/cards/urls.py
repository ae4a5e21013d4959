from django.urls import path

from zorgsleutel.cards import views

app_name = "cards"
urlpatterns = [
    # On the UZI host (nginx proxies only this path there): the page and its POST.
    path("uzi/tls/<str:challenge_id>", views.tls_present, name="tls_present"),
    # On the portal's host: the browser that presented the card comes back with the value.
    path("uzi/terug/<str:challenge_id>", views.tls_return, name="tls_return"),
]
