"""Baselines for `make bench`, mounted only when VOCSITE_BENCH_VIEWS=1: the cheapest Django JSON
view and a view doing exactly one INSERT (an operational event: one row, a few indexes, as an
answer's rows are), measured on the same server in the same run as the real endpoints they
are compared with."""

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from surveys.contacts.models import OperationalEvent


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"show": False, "reason": "no_survey"})


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    row = OperationalEvent.objects.create(
        project_id=int(request.GET.get("project", "1")),
        event="bench_insert",
        occurred_at=timezone.now(),
    )
    return JsonResponse({"id": row.pk}, status=201)
