"""Project settings for admins: behaviour, the embed snippet, secret keys, members, teams,
and the audit log of who changed what."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from surveys.tenancy.audit_words import audit_entry_words, audit_user_ids, object_kind_words
from surveys.tenancy.invitations import member_invitation_revoke, member_invite
from surveys.tenancy.models import (
    ApiKey,
    AuditEntry,
    MemberInvitation,
    MemberInvitationStatus,
    Membership,
    Role,
    Team,
)
from surveys.tenancy.project_settings import (
    member_remove,
    member_set_role,
    project_identity_secret_rotate,
    project_update,
    team_save,
    timezone_names,
)
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.selectors import usernames_by_id
from surveys.tenancy.services import api_key_create, api_key_revoke
from surveys.tenancy.staff import project_view
from surveys.tenancy.theme import HEX_COLOR, theme_colors
from vocsite.errors import ApplicationError


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    allowed_origins = forms.CharField(
        label=_("Allowed origins"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=escape(
            _("One per line. The widget only answers pages from these origins (CORS).")
        ),
    )
    languages = forms.CharField(
        label=_("Languages"), help_text=escape(_("Comma-separated, e.g. en, zh."))
    )
    default_language = forms.CharField(max_length=16, label=_("Default language"))
    recontact_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        label=_("Global cooldown (days)"),
        help_text=escape(_("Nobody is surveyed twice within this many days, whatever the survey.")),
    )
    frequency_cap = forms.IntegerField(
        min_value=1, max_value=1000, label=_("At most this many surveys per person…")
    )
    frequency_window_days = forms.IntegerField(
        min_value=1, max_value=3650, label=_("…in this many days")
    )
    breakdown_attributes = forms.CharField(
        required=False,
        label=_("Breakdown attributes"),
        help_text=escape(
            _(
                "Contact attributes metrics can be split by (e.g. plan, region). Frozen on each answer."
            )
        ),
    )
    feedback_tab_enabled = forms.BooleanField(required=False, label=_("Show the Feedback tab"))
    theme = forms.RegexField(
        regex=rf"^{HEX_COLOR.pattern}$",
        required=False,
        label=_("Accent colour"),
        help_text=escape(
            _(
                "Buttons, the chosen score and the Feedback tab, in the widget and on the e-mail "
                "survey page; a survey may have its own."
            )
        ),
        error_messages={"invalid": _("A colour written #rrggbb, e.g. #4f46e5.")},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    identity_verification = forms.BooleanField(
        required=False,
        label=_("Verify identities"),
        help_text=escape(
            _("Widget calls with a user_id must carry user_hash, signed by your server.")
        ),
    )
    timezone = forms.ChoiceField(
        choices=lambda: [(name, name) for name in timezone_names()],
        label=_("Time zone"),
        help_text=escape(_("Metrics cut days and weeks here. Changing it recounts the history.")),
    )

    retention_months = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=120,
        label=_("Keep raw answers and displays for (months)"),
        help_text=escape(
            _(
                "Older answers, displays and e-mail invitations are deleted every night; "
                "dashboards keep counting them. Empty keeps everything."
            )
        ),
    )

    def clean_allowed_origins(self) -> list[str]:
        return _lines(self.cleaned_data["allowed_origins"])

    def clean_languages(self) -> list[str]:
        return _lines(self.cleaned_data["languages"])

    def clean_breakdown_attributes(self) -> list[str]:
        return _lines(self.cleaned_data["breakdown_attributes"])

    def clean_theme(self) -> dict[str, str]:
        """Empty (a client without a colour picker): the default colour."""
        color = self.cleaned_data["theme"]
        return {"primary_color": color.lower()} if color else {}


class MemberForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(choices=Role.choices, label=_("Role"))


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    email = forms.EmailField(
        required=False, label=_("E-mail"), help_text=escape(_("Shared inbox told about new cases."))
    )
    lead = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("Lead"))
    members = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label=_("Members")
    )

    def __init__(self, *args, people: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].choices = [("", "—"), *people]
        self.fields["members"].choices = people


def _apply(form: forms.Form, error: ApplicationError) -> None:
    for field, problems in (error.fields or {"": [error.message]}).items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@project_view(ADMIN_ROLES)
def project_settings(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    form = ProjectSettingsForm(
        request.POST if request.POST.get("section") == "settings" else None,
        initial=_settings_initial(project),
    )
    if form.is_bound and form.is_valid():
        try:
            project_update(project=project, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _apply(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("project-settings")
    return _render_settings(request, settings_form=form)


def _settings_initial(project) -> dict:
    return {
        "name": project.name,
        "allowed_origins": "\n".join(project.allowed_origins or []),
        "languages": ", ".join(project.languages or []),
        "default_language": project.default_language,
        "recontact_days": project.recontact_days,
        "frequency_cap": project.frequency_cap,
        "frequency_window_days": project.frequency_window_days,
        "breakdown_attributes": ", ".join(project.breakdown_attributes or []),
        "feedback_tab_enabled": project.feedback_tab_enabled,
        "theme": theme_colors(project.theme)["primary_color"],
        "identity_verification": project.identity_verification,
        "timezone": project.timezone,
        "retention_months": project.retention_months,
    }


def _people(project) -> list[tuple[int, str]]:
    return [
        (m.user_id, m.user.get_username())
        for m in Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("user__username")
    ]


def _render_settings(request: HttpRequest, **forms_by_name) -> HttpResponse:
    project = request.access.project
    people = _people(project)
    context = {
        "settings_form": forms_by_name.get("settings_form")
        or ProjectSettingsForm(initial=_settings_initial(project)),
        "member_form": forms_by_name.get("member_form") or MemberForm(),
        "team_form": forms_by_name.get("team_form") or TeamForm(people=people),
        "new_key": forms_by_name.get("new_key"),
        "keys": ApiKey.objects.filter(project=project).order_by("-created_at"),
        "invitations": MemberInvitation.objects.filter(
            project=project, status=MemberInvitationStatus.PENDING
        )
        .select_related("invited_by")
        .order_by("-created_at"),
        "memberships": Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("user__username"),
        "teams": Team.objects.filter(project=project)
        .select_related("lead")
        .prefetch_related("members")
        .order_by("name"),
        "roles": Role.choices,
        "widget_src": request.build_absolute_uri("/static/widget/voc.js"),
    }
    return render(request, "surveys/settings.html", context)


@require_POST
@project_view(ADMIN_ROLES)
def api_key_new(request: HttpRequest) -> HttpResponse:
    name = (request.POST.get("name") or "default").strip()[:100]
    created = api_key_create(project=request.access.project, name=name, created_by=request.user)
    messages.success(
        request,
        _("Secret key “%(name)s” created. Copy it now: it is shown only once.") % {"name": name},
    )
    return _render_settings(request, new_key=created.raw)


@require_POST
@project_view(ADMIN_ROLES)
def identity_secret_rotate(request: HttpRequest) -> HttpResponse:
    project_identity_secret_rotate(project=request.access.project, actor=request.user)
    messages.success(
        request,
        _("New identity secret: hashes signed with the old one are refused within half a minute."),
    )
    return redirect("project-settings")


@require_POST
@project_view(ADMIN_ROLES)
def api_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, project=request.access.project, pk=key_id)
    api_key_revoke(api_key=api_key, actor=request.user)
    messages.success(
        request, _("Key %(prefix)s… revoked: it no longer works.") % {"prefix": api_key.prefix}
    )
    return redirect("project-settings")


@require_POST
@project_view(ADMIN_ROLES)
def member_new(request: HttpRequest) -> HttpResponse:
    """Invite by e-mail. The reply is the same whether the address has an account or not."""
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            member_invite(
                project=request.access.project,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                # Links in e-mails name the configured address, never the request's Host.
                base_url=settings.VOCSITE_BASE_URL,
            )
        except ApplicationError as error:
            _apply(form, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("project-settings")
    messages.error(
        request,
        _("No invitation was sent: %(reasons)s")
        % {"reasons": "; ".join(m for ms in form.errors.values() for m in ms)},
    )
    return redirect("project-settings")


@require_POST
@project_view(ADMIN_ROLES)
def member_invitation_revoke_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(
        MemberInvitation, project=request.access.project, pk=invitation_id
    )
    try:
        member_invitation_revoke(invitation=invitation, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email}
        )
    return redirect("project-settings")


@require_POST
@project_view(ADMIN_ROLES)
def member_change(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, project=request.access.project, pk=membership_id)
    try:
        if request.POST.get("remove"):
            member_remove(membership=membership, actor=request.user)
            messages.success(
                request, _("%(user)s removed.") % {"user": membership.user.get_username()}
            )
        else:
            member_set_role(
                membership=membership, role=request.POST.get("role", ""), actor=request.user
            )
            messages.success(
                request,
                _("%(user)s is now %(role)s.")
                % {"user": membership.user.get_username(), "role": membership.get_role_display()},
            )
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("project-settings")


@require_POST
@project_view(ADMIN_ROLES)
def team_edit(request: HttpRequest, team_id: int | None = None) -> HttpResponse:
    project = request.access.project
    team = get_object_or_404(Team, project=project, pk=team_id) if team_id else None
    form = TeamForm(request.POST, people=_people(project))
    if form.is_valid():
        try:
            team_save(
                project=project,
                team=team,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                lead_id=form.cleaned_data["lead"],
                member_ids=form.cleaned_data["members"],
                actor=request.user,
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Team %(name)s saved.") % {"name": form.cleaned_data["name"]}
            )
    else:
        messages.error(request, "; ".join(m for ms in form.errors.values() for m in ms))
    return redirect("project-settings")


@project_view(ADMIN_ROLES)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.filter(project=request.access.project).select_related("actor")
    kind = request.GET.get("object", "")
    if kind:
        entries = entries.filter(object_type=kind)
    kinds = (
        AuditEntry.objects.filter(project=request.access.project)
        .values_list("object_type", flat=True)
        .distinct()
        .order_by("object_type")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    usernames = usernames_by_id(audit_user_ids(rows))
    return render(
        request,
        "surveys/audit.html",
        {
            "page": page,
            "entries": [audit_entry_words(entry, usernames) for entry in rows],
            "kinds": [(k, object_kind_words(k)) for k in kinds],
            "kind": kind,
        },
    )
