from django.urls import path

from zorgsleutel.devtools import views

app_name = "devtools"
urlpatterns = [
    path("mailbox", views.mailbox, name="mailbox"),
    path("mailbox.json", views.mailbox_json, name="mailbox_json"),
]
