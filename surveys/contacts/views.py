"""Contacts page for admins: find a person, see what vocsite knows (lifecycle, last NPS,
revenue), download everything held about them, erase them, and import contacts from CSV with
every row's problem shown before anything is written."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from surveys.contacts.models import Contact, VisitorId
from surveys.contacts.services import contact_erase, contact_export, contacts_import_csv
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError


@project_view(ADMIN_ROLES)
def contacts_page(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    q = request.GET.get("q", "").strip()[:200]
    contacts = Contact.objects.filter(project=project, merged_into__isnull=True).order_by(
        "-created_at", "-pk"
    )
    if q:
        # An anonymous visitor is found by the exact visitor id (from the browser's storage).
        contacts = contacts.filter(
            Q(user_id__icontains=q)
            | Q(email__icontains=q)
            | Q(pk__in=VisitorId.objects.filter(project=project, visitor_id=q).values("contact"))
        )
    else:
        contacts = contacts.filter(user_id__isnull=False)
    return render(
        request,
        "surveys/contacts.html",
        {
            "page": Paginator(contacts, 50).get_page(request.GET.get("page")),
            "q": q,
            "import_errors": request.session.pop("contact_import_errors", None),
        },
    )


@require_POST
@project_view(ADMIN_ROLES)
def contacts_import_view(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file to import."))
        return redirect("contacts")
    try:
        result = contacts_import_csv(project=request.access.project, content=upload.read())
    except ApplicationError as error:
        messages.error(request, error.message)
        request.session["contact_import_errors"] = [
            problem for problems in error.fields.values() for problem in problems
        ]
    else:
        created = ngettext("%(n)s new contact", "%(n)s new contacts", result["created"]) % {
            "n": result["created"]
        }
        updated = ngettext("%(n)s contact updated", "%(n)s contacts updated", result["updated"]) % {
            "n": result["updated"]
        }
        messages.success(
            request,
            _("Imported: %(created)s, %(updated)s.") % {"created": created, "updated": updated},
        )
    return redirect("contacts")


@project_view(ADMIN_ROLES)
def contact_download(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, project=request.access.project, pk=contact_id)
    body = json.dumps(contact_export(contact=contact), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@require_POST
@project_view(ADMIN_ROLES)
def contact_erase_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, project=request.access.project, pk=contact_id)
    contact_erase(contact=contact, actor=request.user)
    messages.success(
        request,
        _("Contact #%(id)s erased; their answers count on anonymously.") % {"id": contact.pk},
    )
    return redirect("contacts")
