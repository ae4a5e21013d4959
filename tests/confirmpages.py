"""Reading the pages of actions that say what they do (docs/look.md, "Actions"): what a
confirmation page says and offers, the messages a page shows, and the rows it marks."""

from __future__ import annotations

import html
import re

DANGER = "utrecht-button utrecht-button--primary-action utrecht-button--danger"
PRIMARY = "utrecht-button utrecht-button--primary-action"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def main_of(response) -> str:
    return page_text(response).split("<main", 1)[1]


WARNING = r'utrecht-alert--warning".*?<span class="visually-hidden">[^<]*</span>(.*?)</p>'
HIDDEN = r'<input type="hidden" name="(?!csrfmiddlewaretoken)([^"]+)" value="([^"]*)"'


def confirmation(response) -> dict:
    """The title, consequences (paragraphs), list items, warning, button (text, class), what the
    form carries (hidden fields but the CSRF token) and where Terug goes."""
    text = main_of(response)
    warning = re.search(WARNING, text, re.S)
    button = re.search(r'<button type="submit" class="([^"]*)">([^<]*)</button>', text)
    return {
        "status": response.status_code,
        "title": re.search(r"<h1>(.*?)</h1>", text).group(1),
        "consequences": re.findall(r'<p class="zs-consequence">(.*?)</p>', text),
        "items": re.findall(r'<li class="utrecht-unordered-list__item">(.*?)</li>', text),
        "warning": warning.group(1) if warning else "",
        "button": (button.group(2), button.group(1)),
        "carries": dict(re.findall(HIDDEN, text)),
        "csrf": 'name="csrfmiddlewaretoken"' in text,
        "back": re.search(r'<a class="[^"]*" href="([^"]*)">Terug</a>', text).group(1),
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def marked_rows(response) -> list[str]:
    """The ids of the rows marked as just changed (class zs-changed, aria-current)."""
    rows = re.findall(r"<tr ([^>]*)>", page_text(response))
    marked = []
    for attributes in rows:
        row_id = re.search(r'id="([^"]*)"', attributes)
        if "zs-changed" in attributes or "aria-current" in attributes:
            assert 'aria-current="true"' in attributes and "zs-changed" in attributes, attributes
            marked.append(row_id.group(1))
    return marked
