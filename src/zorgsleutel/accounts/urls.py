from django.urls import path, re_path

from zorgsleutel.accounts import audit_views, invitation_views, manage_views, notme_views, views

app_name = "accounts"
urlpatterns = [
    path("mijn", views.home_view, name="home"),
    path("activeren/<str:token>", views.activate_view, name="activate"),
    path("activeren/<str:token>/code", views.activate_code_view, name="activate_code"),
    path("uitnodiging/<str:token>", invitation_views.invitation_view, name="invitation"),
    path(
        "mijn/uitnodigingen/<int:membership_id>/accepteren",
        invitation_views.accept_view,
        name="accept_invitation",
    ),
    path("dit-was-ik-niet/<str:token>", notme_views.not_me_view, name="not_me"),
    path("wachtwoord-vergeten", views.forgot_password_view, name="forgot_password"),
    path("wachtwoord-herstellen/<str:token>", views.reset_view, name="reset"),
    path("wachtwoord-herstellen/<str:token>/code", views.reset_code_view, name="reset_code"),
    path("beheer", manage_views.index, name="manage"),
    path("beheer/<uuid:public_id>", manage_views.member_list, name="members"),
    path("beheer/<uuid:public_id>/nieuwe-gebruiker", manage_views.new_member, name="new_member"),
    path("beheer/<uuid:public_id>/audit", audit_views.audit_log, name="audit"),
    path("beheer/<uuid:public_id>/audit.csv", audit_views.audit_csv, name="audit_csv"),
    path(
        "beheer/<uuid:public_id>/leden/<int:membership_id>/rol",
        manage_views.member_role,
        name="member_role",
    ),
    re_path(
        r"^beheer/(?P<public_id>[0-9a-f-]{36})/leden/(?P<membership_id>[0-9]+)/"
        r"(?P<action>resend|block|unblock|delete)$",
        manage_views.member_action,
        name="member_action",
    ),
]
