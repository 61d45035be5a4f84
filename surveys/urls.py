"""Staff pages of the surveys app (mounted under /app/)."""

from django.urls import path

from surveys.contacts import views as contact_views
from surveys.delivery import install_views, link_views
from surveys.design import views
from surveys.tenancy import invitation_views as member_invitation_views
from surveys.tenancy import staff, staff_home
from surveys.tenancy import views as settings_views

urlpatterns = [
    path("", staff_home.staff_home, name="staff-home"),
    path("switch-project/", staff.switch_project, name="switch-project"),
    path("no-project/", staff_home.no_project, name="no-project"),
    path("surveys/", views.survey_list, name="survey-list"),
    path("surveys/new/", views.survey_new, name="survey-new"),
    path("surveys/<int:survey_id>/", views.survey_edit, name="survey-edit"),
    path("surveys/<int:survey_id>/preview/", views.survey_preview, name="survey-preview"),
    # Before survey-action, whose <str:action> would take "links".
    path("surveys/<int:survey_id>/links/", link_views.survey_links_page, name="survey-links"),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>/deactivate/",
        link_views.survey_link_deactivate,
        name="survey-link-deactivate",
    ),
    path(
        "surveys/<int:survey_id>/links/<int:link_id>/qr.<str:kind>",
        link_views.survey_link_qr,
        name="survey-link-qr",
    ),
    path(
        "surveys/<int:survey_id>/<str:action>/",
        views.survey_action,
        name="survey-action",
    ),
]

urlpatterns += [
    path("settings/", settings_views.project_settings, name="project-settings"),
    path("settings/keys/", settings_views.api_key_new, name="api-key-new"),
    path("settings/install/", install_views.install_status_page, name="install-status"),
    path("settings/install/allow/", install_views.origin_allow, name="origin-allow"),
    path(
        "settings/identity-secret/",
        settings_views.identity_secret_rotate,
        name="identity-secret-rotate",
    ),
    path(
        "settings/keys/<int:key_id>/revoke/",
        settings_views.api_key_revoke_view,
        name="api-key-revoke",
    ),
    path("settings/members/", settings_views.member_new, name="member-new"),
    path(
        "settings/members/<int:membership_id>/",
        settings_views.member_change,
        name="member-change",
    ),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        settings_views.member_invitation_revoke_view,
        name="member-invitation-revoke",
    ),
    path(
        "invitations/<str:token>/",
        member_invitation_views.member_invitation,
        name="member-invitation",
    ),
    path("settings/teams/", settings_views.team_edit, name="team-new"),
    path("settings/teams/<int:team_id>/", settings_views.team_edit, name="team-edit"),
    path("audit/", settings_views.audit_log, name="audit-log"),
    path("contacts/", contact_views.contacts_page, name="contacts"),
    path("contacts/import/", contact_views.contacts_import_view, name="contacts-import"),
    path(
        "contacts/<int:contact_id>/export/", contact_views.contact_download, name="contact-export"
    ),
    path(
        "contacts/<int:contact_id>/erase/", contact_views.contact_erase_view, name="contact-erase"
    ),
]
