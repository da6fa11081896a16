"""{% load event_tags %}{% inbox_unread as n %}: the header's unread-message count."""
from django import template

from gridmap.events import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return selectors.unread_count(user)
