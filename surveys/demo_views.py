"""The demo shop (`/demo/`): a fake store embedding the real widget, so a person can walk the
whole flow — touchpoints, the throttle holding surveys back, the Feedback tab."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.models import Project


def demo_shop(request: HttpRequest) -> HttpResponse:
    project = Project.objects.filter(is_demo=True).first()
    touchpoints = list(project.touchpoints.select_related("stage")) if project else []
    return render(request, "demo/shop.html", {"project": project, "touchpoints": touchpoints})
