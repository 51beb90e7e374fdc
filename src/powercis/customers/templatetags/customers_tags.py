"""Template helpers of the customer archive."""

from django import template

from ..change_display import change_rows as _change_rows

register = template.Library()


@register.simple_tag
def change_rows(doc):
    return _change_rows(doc)
