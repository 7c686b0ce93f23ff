"""Template tags for the page shell."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label) -> str:
    """A navigation item `<li><a>` for `url_name`, or nothing if it does not resolve.

    Pages are added app by app; the navigation names them already and shows
    each one as soon as its URL exists. The link to the current page (or to
    a page below it) carries aria-current="page".
    """
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    request = context.get("request")
    path = getattr(request, "path", "")
    # The home page "/" is the prefix of every path: it is current only on itself.
    current = path == url or (url != "/" and path.startswith(url))
    if current:
        return format_html('<li><a href="{}" aria-current="page">{}</a></li>', url, label)
    return format_html('<li><a href="{}">{}</a></li>', url, label)
