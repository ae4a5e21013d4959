"""With DEBUG on, a page that does not exist is the product's own 404 page (web/views.py), as it
is without DEBUG, instead of Django's technical page listing every URL pattern: a newcomer sees
what a user would, and the portal's routes stay off the page. The path still goes to the log
(Django's `django.request` logger: "Not Found: /…").

Django shows its technical page whenever `settings.DEBUG` is set, for a path no pattern matches
and for a view that raises Http404; neither reaches a handler404 then. So this middleware, last
in MIDDLEWARE (after sessions, authentication and messages, as a view would be), resolves the
path itself and answers with handler404; and turns a view's Http404 into the same page. With
DEBUG off it does nothing: Django calls handler404 itself.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf, resolve


class NotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, get_urlconf())
            except Resolver404:
                return _not_found(request, None)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return _not_found(request, exception)
        return None


def _not_found(request: HttpRequest, exception: Exception | None) -> HttpResponse:
    handler = get_resolver(get_urlconf()).resolve_error_handler(404)
    return handler(request, exception)
