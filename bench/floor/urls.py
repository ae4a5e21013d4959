from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("floor/ok", lambda request: HttpResponse("ok")),
    path("", include("zorgsleutel.urls")),
]
