from django.urls import path

from zorgsleutel.smartcards import order_views as views

app_name = "card_orders"
urlpatterns = [
    path("beheer/smartcards-bestellen", views.order_index, name="index"),
    path("beheer/<uuid:public_id>/smartcards-bestellen", views.orders, name="orders"),
    path(
        "beheer/<uuid:public_id>/smartcards-bestellen/<str:order_id>/annuleren",
        views.cancel,
        name="cancel",
    ),
]
