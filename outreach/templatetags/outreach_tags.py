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


@register.simple_tag(takes_context=True)
def offline_settings(context: template.Context) -> str:
    """The settings and texts of the device's outbox (static/js/outbox.js), as a JSON script element.

    The texts are translated here, in the page's language, so that the script
    needs no catalogue of its own. `user` tells the outbox whose entries it
    keeps: another user signing in on the device clears them.
    """
    from django.conf import settings
    from django.utils.html import json_script
    from django.utils.translation import gettext as _

    request = context.get("request")
    user = getattr(request, "user", None)
    texts = {
        "waiting": _("Waiting to send (%(count)s)"),
        "waiting_help": _("Kept on this device and sent by itself when the connection returns."),
        "show_entries": _("Entries waiting"),
        "sending": _("Sending…"),
        "sent": _("Everything logged without a connection has been sent."),
        "offline": _("No connection. What you log is kept on this device and sent when the connection returns."),
        "offline_copy": _("You are offline: this is the copy of the page kept on this device."),
        "queued": _("Kept on this device: it is sent when the connection returns."),
        "signed_out": _(
            "Your session has ended, so nothing more could be sent. Sign in again: the entries waiting on this "
            "device are sent after that."
        ),
        "sign_in": _("Sign in"),
        "refused_title": _("Not saved (%(count)s)"),
        "refused_help": _("The server refused these entries. They stay here until you correct or remove them."),
        "fix": _("Correct it in the form and save again, or remove it."),
        "edit": _("Edit in the form"),
        "retry": _("Try again"),
        "remove": _("Remove"),
        "remove_confirm": _("Remove this entry for good? It has not been saved."),
        "not_found": _(
            "The outing or follow-up is no longer yours to log at. Remove the entry, or log it again where it belongs."
        ),
        "server_error": _("The server could not save the entries just now; they are tried again in a moment."),
        "finished": _(
            "The outing was finished meanwhile; your entries were saved to it. Check its end time and summary."
        ),
        "encounter": _("Encounter"),
        "tally_plus": _("Brief contact +1"),
        "tally_minus": _("Brief contact −1"),  # the minus sign of the tally's button
        "follow_up": _("Follow-up marked done"),
        "tally_waiting": _("%(count)s taps waiting to send"),
        "search_offline": _(
            "Searching for persons needs a connection. Log the encounter anonymously or as a new pseudonymous person."
        ),
        "sign_out_confirm": _(
            "%(count)s entries have not been sent yet. Signing out deletes them from this device. Sign out anyway?"
        ),
    }
    data = {
        "user": user.pk if user is not None and user.is_authenticated else None,
        "idleMs": settings.OFFLINE_IDLE_TIMEOUT * 1000,
        "serviceWorker": reverse("service_worker"),
        "csrfCookie": settings.CSRF_COOKIE_NAME,
        "loginUrl": reverse("account_login"),
        "logoutUrl": reverse("account_logout"),
        "whoAmI": reverse("user-me"),
        "texts": texts,
    }
    return json_script(data, "offline-settings")
