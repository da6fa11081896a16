"""A person's full record as a page of its own (login required, scoped, masked or logged as the
role requires): the same card as GET /api/persons/{id}/, drawn on the server."""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import selectors
from .models import Person


@never_cache  # a full record: not kept by the browser for a Back after logout
@login_required
def person_page(request, pk: int):
    try:
        card = selectors.person_card(request.user, pk, history=True)
    except Person.DoesNotExist:
        raise Http404("no such person in your area") from None
    return render(request, "person.html", {"person": card})
