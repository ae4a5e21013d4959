"""Where relying parties find the smartcard CA's status: the addresses every card certificate
names (smartcards/ca.py, Urls: AIA and CRL distribution point)."""

from django.urls import path

from zorgsleutel.smartcards import status_views as views

app_name = "smartcard_status"
urlpatterns = [
    path("smartcards/ocsp", views.ocsp_post, name="ocsp"),
    path("smartcards/ocsp/<path:encoded>", views.ocsp_get, name="ocsp_get"),
    path("smartcards/ca.crl", views.crl, name="crl"),
    path("smartcards/ca.cer", views.ca_certificate, name="ca_certificate"),
]
