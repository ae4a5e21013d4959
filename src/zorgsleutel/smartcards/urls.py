from django.urls import path

from zorgsleutel.smartcards import manage_views, views

app_name = "smartcards"
urlpatterns = [
    path("inloggen/smartcard", views.login_with_card, name="login"),
    path("inloggen/smartcard/qr/<str:challenge_id>.svg", views.card_qr, name="card_qr"),
    path("mijn/smartcards", views.mine, name="mine"),
    path("mijn/smartcards/aanmaken", views.create, name="create"),
    path("mijn/smartcards/<str:card_id>/kwijt", views.report_lost, name="report_lost"),
    path("mijn/smartcards/<str:card_id>/vernieuwen", views.renew, name="renew"),
    path(
        "beheer/<uuid:public_id>/leden/<int:membership_id>/smartcards",
        manage_views.member_cards,
        name="member_cards",
    ),
    path("help/smartcard", views.guidance, name="guidance"),
]
