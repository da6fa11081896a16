"""{% load two_step %}: whether the admin's user tools link to the two-step sign-in page."""
from django import template

from gridmap.core.two_factor import offers_two_step

register = template.Library()
register.filter("offers_two_step", offers_two_step)
