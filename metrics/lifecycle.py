"""Experience beside outcome (DESIGN.md §7): churn rate per period, revenue, CLV, and churn and
revenue by a contact's last NPS category and by whether a detractor's case was recovered.

Churn rate for a period = contacts who churned in it / contacts active at its start.
CLV (simple) = average revenue per contact per period × margin / churn rate.
Each figure is one grouped query, whatever the number of periods.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models import Case as When_
from django.db.models import When as WhenClause
from django.db.models.functions import Coalesce

from surveys.models import Contact, LifecycleStatus, Project


def _periods(since: date, until: date, interval: str) -> list[tuple[date, date]]:
    """[start, end) periods covering since..until: calendar months or ISO weeks."""
    out = []
    if interval == "week":
        start = since - timedelta(days=since.weekday())
        while start <= until:
            out.append((start, start + timedelta(days=7)))
            start += timedelta(days=7)
        return out
    start = since.replace(day=1)
    while start <= until:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append((start, end))
        start = end
    return out


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def churn_series(
    project: Project, *, since: date, until: date, interval: str = "month", margin: float = 1.0
) -> dict[str, Any]:
    from feedback.models import OperationalEvent

    periods = _periods(since, until, interval)
    contacts = Contact.objects.filter(project=project, merged_into__isnull=True)
    aggregates = {}
    for i, (start, end) in enumerate(periods):
        begin, finish = _at(start), _at(end)
        aggregates[f"active_{i}"] = Count(
            "pk",
            filter=Q(created_at__lt=begin)
            & (Q(churned_at__isnull=True) | Q(churned_at__gte=begin)),
        )
        aggregates[f"churned_{i}"] = Count(
            "pk", filter=Q(churned_at__gte=begin, churned_at__lt=finish)
        )
    counts = contacts.aggregate(**aggregates) if aggregates else {}
    revenue_aggregates = {
        f"revenue_{i}": Coalesce(
            Sum("revenue", filter=Q(occurred_at__gte=_at(s), occurred_at__lt=_at(e))),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=16, decimal_places=2),
        )
        for i, (s, e) in enumerate(periods)
    }
    revenue = (
        OperationalEvent.objects.filter(project=project).aggregate(**revenue_aggregates)
        if revenue_aggregates
        else {}
    )
    series = []
    for i, (start, _end) in enumerate(periods):
        active, churned = counts[f"active_{i}"], counts[f"churned_{i}"]
        income = revenue[f"revenue_{i}"]
        series.append(
            {
                "period_start": start.isoformat(),
                "active_at_start": active,
                "churned": churned,
                "churn_rate": round(100 * churned / active, 2) if active else None,
                "revenue": _money(income),
                "revenue_per_contact": round(float(income) / active, 2) if active else None,
            }
        )
    usable = [p for p in series if p["churn_rate"] and p["revenue_per_contact"] is not None]
    clv = None
    if usable:
        rate = sum(p["churn_rate"] for p in usable) / len(usable) / 100
        per_contact = sum(p["revenue_per_contact"] for p in usable) / len(usable)
        clv = round(per_contact * margin / rate, 2)
    return {"interval": interval, "margin": margin, "series": series, "clv": clv}


def _nps_bucket():
    return When_(
        WhenClause(last_nps__lte=6, then=Value("detractor")),
        WhenClause(last_nps__gte=9, then=Value("promoter")),
        default=Value("passive"),
    )


def outcomes_by_nps(project: Project) -> list[dict[str, Any]]:
    """Contacts by the category of their latest NPS answer (kept on the contact by the
    pipeline): how many, share churned, average revenue to date. One grouped query."""
    rows = (
        Contact.objects.filter(project=project, merged_into__isnull=True, last_nps__isnull=False)
        .annotate(category=_nps_bucket())
        .values("category")
        .annotate(
            contacts=Count("pk"),
            churned=Count("pk", filter=Q(lifecycle=LifecycleStatus.CHURNED)),
            revenue=Avg("revenue_total"),
        )
    )
    order = {"promoter": 0, "passive": 1, "detractor": 2}
    return sorted(
        (_outcome(row, "category") for row in rows), key=lambda r: order.get(r["category"], 9)
    )


def outcomes_by_recovery(project: Project) -> list[dict[str, Any]]:
    """Contacts with a closed follow-up case, split by whether a later answer showed them
    recovered (a contact with any recovered case counts as recovered)."""
    from feedback.models import Case, CaseStatus

    closed = Case.objects.filter(
        project=project,
        contact=OuterRef("pk"),
        status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
    )
    rows = (
        Contact.objects.filter(project=project)
        .annotate(
            had_case=Exists(closed),
            was_recovered=Exists(closed.filter(recovered=True)),
        )
        .filter(had_case=True)
        .annotate(
            recovery=When_(
                WhenClause(was_recovered=True, then=Value("recovered")),
                default=Value("not recovered"),
            )
        )
        .values("recovery")
        .annotate(
            contacts=Count("pk"),
            churned=Count("pk", filter=Q(lifecycle=LifecycleStatus.CHURNED)),
            revenue=Avg("revenue_total"),
        )
    )
    return sorted((_outcome(row, "recovery") for row in rows), key=lambda r: r["recovery"])


def _outcome(row: dict, key: str) -> dict[str, Any]:
    contacts = row["contacts"]
    return {
        key: row[key],
        "contacts": contacts,
        "churned": row["churned"],
        "churn_share": round(100 * row["churned"] / contacts, 1) if contacts else None,
        "average_revenue": _money(row["revenue"] or 0),
    }


def _money(value) -> str:
    """Two decimals whatever the database hands back (SQLite: int or float; PostgreSQL: Decimal)."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
