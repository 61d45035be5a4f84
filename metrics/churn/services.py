"""Experience beside outcome (DESIGN.md §7): churn rate per period, revenue, CLV, and churn and
revenue by a customer's last NPS category and by whether a detractor's case was recovered.

Everything is counted over *customers*: identified contacts (a `user_id`, or erased since:
erasure keeps every count) not merged into another, whose lifecycle began with an operational
event, read from their lifecycle
history (surveys.models.LifecycleChange, kept in event time by surveys.delivery.events). Anonymous
visitors are never customers.

- Active at a period's start: the customer's latest change before that moment started an active
  spell (started or reactivated).
- Churned in a period: customers active at its start whose spell ended with a churn inside it.
  A customer counts once per period and again in every period they churn in; churns of
  customers who joined or came back within the period are in `churn_events` and count from the
  next period on (their churn rate could otherwise pass 100 %).
- Churn rate = churned / active at start, with its Wilson interval and n.
- Revenue per customer = revenue in the period of the customers active at any moment of it /
  those customers (the same population on both sides of the division).
- CLV (simple) = average revenue per customer per period × margin / average churn rate per
  period, both averaged over every period of the window that had customers at its start
  (periods without churn included); no churn in the window gives no CLV, and the reason.

Each figure is one grouped query, whatever the number of periods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models import Case as When_
from django.db.models import When as WhenClause
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from feedback.cases.models import Case, CaseStatus
from metrics.scores import proportion
from surveys.contacts.lifecycle import ACTIVE_KINDS, CHURNED
from surveys.contacts.models import Contact, LifecycleChange, LifecycleStatus, OperationalEvent
from surveys.design.scales import nps_category_sql
from surveys.tenancy.models import Project
from surveys.tenancy.timezones import day_start, project_zone

CHURN_METHOD = (
    "Customers: identified contacts whose lifecycle began with an operational event, from "
    "their lifecycle history in event time (anonymous visitors never count). Churn rate = "
    "customers active at the period's start who churned in it / customers active at its start "
    "(Wilson 95 % interval); churns of customers who joined or came back during the period "
    "are in churn_events. Revenue per customer = revenue in the period of the customers active "
    "at any moment of it / those customers (active_in_period). CLV = mean revenue per customer "
    "per period × margin / mean churn rate per period, both over every period of the window "
    "with customers at its start, periods without churn included."
)


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


def _customer_contact(prefix: str = "") -> Q:
    """An identified person still standing for themselves (not merged into another). An erased
    customer stays one, as an anonymous shell: erasure removes who they were, not the counts
    they are part of."""
    return Q(**{f"{prefix}merged_into__isnull": True}) & (
        Q(**{f"{prefix}user_id__isnull": False}) | Q(**{f"{prefix}erased_at__isnull": False})
    )


def _active_at(moment: datetime) -> Q:
    """Active spells open at `moment`: begun before it, not ended before it."""
    return Q(kind__in=ACTIVE_KINDS, occurred_at__lt=moment) & (
        Q(ended_at__isnull=True) | Q(ended_at__gte=moment)
    )


def _active_during(begin: datetime, finish: datetime) -> Q:
    """Active spells open at any moment of [begin, finish)."""
    return Q(kind__in=ACTIVE_KINDS, occurred_at__lt=finish) & (
        Q(ended_at__isnull=True) | Q(ended_at__gte=begin)
    )


def churn_series(
    project: Project, *, since: date, until: date, interval: str = "month", margin: float = 1.0
) -> dict[str, Any]:

    zone = project_zone(project)
    periods = _periods(since, until, interval)
    aggregates = {}
    for i, (start, end) in enumerate(periods):
        begin, finish = day_start(start, zone), day_start(end, zone)
        aggregates[f"active_{i}"] = Count("pk", filter=_active_at(begin))
        # The spell that was open at the start ended (by a churn: an active spell always ends
        # with one) inside the period.
        aggregates[f"churned_{i}"] = Count(
            "pk",
            filter=Q(kind__in=ACTIVE_KINDS, occurred_at__lt=begin, ended_at__gte=begin)
            & Q(ended_at__lt=finish),
        )
        aggregates[f"churn_events_{i}"] = Count(
            "pk", filter=Q(kind=CHURNED, occurred_at__gte=begin, occurred_at__lt=finish)
        )
        aggregates[f"in_period_{i}"] = Count(
            "contact", distinct=True, filter=_active_during(begin, finish)
        )
    window_end = day_start(periods[-1][1], zone) if periods else None
    counts = (
        LifecycleChange.objects.filter(
            _customer_contact("contact__"), project=project, occurred_at__lt=window_end
        ).aggregate(**aggregates)
        if aggregates
        else {}
    )
    revenue_aggregates = {}
    for i, (start, end) in enumerate(periods):
        begin, finish = day_start(start, zone), day_start(end, zone)
        # A positive revenue keeps its customer active at that moment (surveys.contacts.lifecycle), so
        # only refunds and zero amounts need the history asked.
        spell = LifecycleChange.objects.filter(
            _active_during(begin, finish), contact=OuterRef("contact")
        )
        revenue_aggregates[f"revenue_{i}"] = Coalesce(
            Sum(
                "revenue",
                filter=Q(occurred_at__gte=begin, occurred_at__lt=finish)
                & (Q(revenue__gt=0) | Q(Exists(spell))),
            ),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=16, decimal_places=2),
        )
    revenue = (
        OperationalEvent.objects.filter(
            _customer_contact("contact__"),
            project=project,
            revenue__isnull=False,
            occurred_at__gte=day_start(periods[0][0], zone),
            occurred_at__lt=window_end,
        ).aggregate(**revenue_aggregates)
        if revenue_aggregates
        else {}
    )
    now = timezone.now()
    series = []
    for i, (start, end) in enumerate(periods):
        active, churned = counts[f"active_{i}"], counts[f"churned_{i}"]
        in_period = counts[f"in_period_{i}"]
        income = revenue[f"revenue_{i}"]
        series.append(
            {
                "period_start": start.isoformat(),
                "partial": start < since
                or end > until + timedelta(days=1)
                or day_start(end, zone) > now,
                "active_at_start": active,
                "churned": churned,
                "churn_events": counts[f"churn_events_{i}"],
                **proportion(churned, active).to_dict("churn_rate"),
                "active_in_period": in_period,
                "revenue": _money(income),
                "revenue_per_contact": round(float(income) / in_period, 2) if in_period else None,
            }
        )
    return {
        "interval": interval,
        "margin": margin,
        "method": CHURN_METHOD,
        "series": series,
        **_clv(series, revenue, counts, margin=margin, since=since, until=until),
    }


def _clv(
    series: list[dict], revenue: dict, counts: dict, *, margin: float, since: date, until: date
) -> dict[str, Any]:
    """Averages over the periods with customers at their start, from the exact counts (not the
    rounded figures shown)."""
    used = [i for i, _ in enumerate(series) if counts[f"active_{i}"]]
    out: dict[str, Any] = {
        "clv": None,
        "clv_reason": None,
        "clv_periods": len(used),
        "average_churn_rate": None,
        "average_revenue_per_contact": None,
    }
    if not used:
        out["clv_reason"] = gettext(
            "No customers were active at the start of any period from %(since)s to %(until)s, "
            "so there is no churn rate to divide by."
        ) % {"since": since, "until": until}
        return out
    rate = sum(counts[f"churned_{i}"] / counts[f"active_{i}"] for i in used) / len(used)
    per_customer = sum(
        float(revenue[f"revenue_{i}"]) / counts[f"in_period_{i}"] for i in used
    ) / len(used)
    out["average_churn_rate"] = round(100 * rate, 2)
    out["average_revenue_per_contact"] = round(per_customer, 2)
    if rate == 0:
        out["clv_reason"] = gettext(
            "No customer churned from %(since)s to %(until)s: with a churn rate of 0 the "
            "expected lifetime has no end, so there is no lifetime value to show."
        ) % {"since": since, "until": until}
        return out
    out["clv"] = round(per_customer * margin / rate, 2)
    return out


def _customers(project: Project):
    """Identified contacts with a lifecycle history: the people churn can be about."""
    return Contact.objects.filter(_customer_contact(), project=project).filter(
        Exists(LifecycleChange.objects.filter(contact=OuterRef("pk")))
    )


def outcomes_by_nps(project: Project) -> list[dict[str, Any]]:
    """Customers by the category of their latest NPS answer (kept on the contact by the
    pipeline): how many, share churned now (Wilson interval), average revenue to date. One
    grouped query."""
    rows = (
        _customers(project)
        .filter(last_nps__isnull=False)
        .annotate(category=nps_category_sql("last_nps"))
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
    """Customers with a closed follow-up case, split by whether a later answer showed them
    recovered (a customer with any recovered case counts as recovered)."""

    closed = Case.objects.filter(
        project=project,
        contact=OuterRef("pk"),
        status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED),
    )
    rows = (
        _customers(project)
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
        **proportion(row["churned"], contacts).to_dict("churn_share"),
        "average_revenue": _money(row["revenue"] or 0),
    }


def _money(value) -> str:
    """Two decimals whatever the database hands back (SQLite: int or float; PostgreSQL: Decimal)."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
