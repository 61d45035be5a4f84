"""The demo shop (`/demo/`): a fake store embedding the real widget, so a person can walk the
whole flow — touchpoints, the throttle holding surveys back, the Feedback tab."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.contacts.identity import user_hash
from surveys.delivery.models import DecisionReason
from surveys.tenancy.models import Project
from vocsite.csp import widget_page

DEMO_CUSTOMER = "cust-00042"


@widget_page  # embeds the real widget
def demo_shop(request: HttpRequest) -> HttpResponse:
    """The shop signs its customer in the way a company's server does: it computes the
    identity hash (surveys.contacts.identity) and hands it to `voc.identify` with the user id."""
    project = Project.objects.filter(is_demo=True).first()
    touchpoints = list(project.touchpoints.select_related("stage")) if project else []
    customer_hash = (
        user_hash(secret=project.identity_secret, user_id=DEMO_CUSTOMER) if project else ""
    )
    return render(
        request,
        "demo/shop.html",
        {
            "project": project,
            "touchpoints": touchpoints,
            "customer": DEMO_CUSTOMER,
            "customer_hash": customer_hash,
            # The log says why decide held a survey back in words (the code beside it).
            "reason_words": {code: str(label) for code, label in DecisionReason.choices},
        },
    )
