from django.urls import path

from zorgsleutel.authn import password_views, views

app_name = "authn"
urlpatterns = [
    path("inloggen", password_views.login_view, name="login"),
    path("inloggen/code", password_views.login_code_view, name="login_code"),
    path("uitloggen", password_views.logout_view, name="logout"),
    path("wachten/<str:challenge_id>", views.challenge_status, name="challenge_status"),
]
