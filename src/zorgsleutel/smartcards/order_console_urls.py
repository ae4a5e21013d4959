from django.urls import path

from zorgsleutel.smartcards import order_console_views as views

app_name = "card_order_console"
urlpatterns = [
    path("smartcardbestellingen", views.queue, name="queue"),
    path("smartcardbestellingen/<str:order_id>", views.order, name="order"),
    path("smartcardbestellingen/<str:order_id>/verzenden", views.ship, name="ship"),
    path("smartcardbestellingen/<str:order_id>/annuleren", views.cancel, name="cancel"),
]
