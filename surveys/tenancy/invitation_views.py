"""The invited person's side of a project invitation (surveys.tenancy.invitations): the link
from the e-mail shows what they are invited to; they accept it logged in with the invited
address, or make an account for that address first. A GET changes nothing (mail scanners
fetch every link)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import BaseUserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from surveys.tenancy.api_auth import SESSION_PROJECT_KEY
from surveys.tenancy.invitations import (
    member_invitation_accept,
    member_invitation_account_exists,
    member_invitation_for_token,
    member_invitation_sign_up,
)
from vocsite.errors import ApplicationError

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


class InvitedSignUpForm(BaseUserCreationForm):
    """A user name and a password (twice, checked by the password validators); the e-mail
    address is the invited one."""

    class Meta(BaseUserCreationForm.Meta):
        fields = ("username",)


def _apply(form: forms.Form, error: ApplicationError) -> None:
    for field, problems in (error.fields or {"": [error.message]}).items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@require_http_methods(["GET", "POST"])
def member_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = member_invitation_for_token(token)
    if invitation is None:
        return render(request, "surveys/member_invitation.html", {"invalid": True}, status=404)
    user = request.user
    context = {"invitation": invitation, "project": invitation.project}
    if user.is_authenticated:
        if (user.email or "").strip().lower() != invitation.email:
            return render(
                request,
                "surveys/member_invitation.html",
                {**context, "wrong_user": True},
                status=403,
            )
        if request.method == "POST":
            try:
                membership = member_invitation_accept(token=token, user=user)
            except ApplicationError as error:
                messages.error(request, error.message)
                return redirect("staff-home")
            request.session[SESSION_PROJECT_KEY] = membership.project_id
            messages.success(
                request,
                _("You are now a member of %(project)s.") % {"project": membership.project.name},
            )
            return redirect("staff-home")
        return render(request, "surveys/member_invitation.html", context)

    if member_invitation_account_exists(invitation):
        return render(request, "surveys/member_invitation.html", {**context, "log_in": True})
    form = InvitedSignUpForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            account = member_invitation_sign_up(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ApplicationError as error:
            _apply(form, error)
        else:
            login(request, account, backend=LOGIN_BACKEND)
            request.session[SESSION_PROJECT_KEY] = invitation.project_id
            messages.success(
                request,
                _("Welcome! You are now a member of %(project)s.")
                % {"project": invitation.project.name},
            )
            return redirect("staff-home")
    return render(
        request,
        "surveys/member_invitation.html",
        {**context, "sign_up": form},
        status=422 if form.is_bound else 200,
    )
