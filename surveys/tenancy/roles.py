"""Who may do what: the one home of the role lists. The management API (`allowed_roles`), the
staff pages (`project_view`), the staff navigation and case assignment all read them here, so
a role means the same thing on every surface (DESIGN.md §6).

Admins run the project (settings, keys, members, contacts, webhooks, the events API, the audit
log); designers build surveys, the journey, alert rules and topics; agents work the inbox;
viewers read dashboards and metrics. A secret key acts as an admin."""

from __future__ import annotations

from surveys.tenancy.models import Role

# Every role of the project: dashboards, the journey map, the metrics API.
READ_ROLES = (Role.ADMIN, Role.DESIGNER, Role.AGENT, Role.VIEWER)
# Survey design: surveys, journey edits, alert rules, topics.
DESIGN_ROLES = (Role.ADMIN, Role.DESIGNER)
# The frontline: inbox, cases, verbatims and the responses API.
CASE_ROLES = (Role.ADMIN, Role.AGENT, Role.DESIGNER)
# Running the project: settings, API keys, members, contacts, webhooks, events, audit log. A
# project always keeps a member with one of these roles.
ADMIN_ROLES = (Role.ADMIN,)
# The role of the person who creates a project, and the one a secret key acts with.
OWNER_ROLE = Role.ADMIN
# Who a case can be assigned to.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.AGENT)
# The frontline: their staff home is the inbox, and it holds their teams' cases and their own.
FRONTLINE_ROLES = (Role.AGENT,)
# The managers and executives (viewers, DESIGN.md §2) and admins: the weekly digest by e-mail.
DIGEST_ROLES = (Role.ADMIN, Role.VIEWER)
