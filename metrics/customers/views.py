"""A page per customer: who they are, how their NPS went, and everything that happened with
them in one timeline. Read by every role; another project's contact is not found. A merged
anonymous visitor leads to the person it was merged into; an erased contact shows only that
it was erased."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from metrics.customers.selectors import customer_contact, customer_profile, customer_timeline
from metrics.customers.sparkline import nps_sparkline
from surveys.contacts.services import contact_person_root
from surveys.tenancy.roles import READ_ROLES
from surveys.tenancy.staff import project_view


@project_view(READ_ROLES)
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = customer_contact(project=request.access.project, contact_id=contact_id)
    if contact is None:
        raise Http404("No such contact in this project.")
    if contact.merged_into_id is not None:
        return redirect("contact-detail", contact_person_root(contact).pk)
    if contact.erased_at is not None:
        return render(
            request,
            "metrics/contact_erased.html",
            {"contact_id": contact.pk, "erased_at": contact.erased_at},
        )
    profile = customer_profile(contact)
    return render(
        request,
        "metrics/contact.html",
        {
            "contact": contact,
            "profile": profile,
            "sparkline": nps_sparkline(profile.nps),
            "page": customer_timeline(
                contact_ids=profile.contact_ids, page_number=request.GET.get("page")
            ),
        },
    )
