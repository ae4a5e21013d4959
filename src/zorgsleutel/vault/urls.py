from django.urls import path, re_path

from zorgsleutel.vault import api

urlpatterns = [
    path("v1/enrolments", api.enrolments),
    path("v1/enrolments/<str:enrolment_id>", api.enrolment),
    path("v1/enrolments/<str:enrolment_id>/challenge", api.challenge),
    path("v1/enrolments/<str:enrolment_id>/notices", api.notices_of),
    path("v1/challenges/<str:challenge_id>/verify", api.verify),
    path("v1/health", api.health),
    path("v1/dev/sms", api.dev_sms),
    re_path(r"", api.not_found),
]

handler400 = api.bad_request
handler404 = api.not_found
handler500 = api.server_error
