"""CSV and XLSX exports, streamed: rows are read from the database in chunks and written out as
they come, so a million responses never sit in memory (XLSX rows go to openpyxl's write-only
workbook, which spools them to disk, and the finished file is streamed from there).

Every text cell is defused against formula injection: a value starting with = + - @ or a
control character is prefixed with an apostrophe, so a spreadsheet shows it as text.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook

from feedback.answering.models import Answer
from feedback.topics.models import Tag
from metrics.reports.dashboards import metric_reports

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    """Spreadsheet-safe cell: text that could run as a formula becomes literal text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # BOM: Excel opens UTF-8 (Chinese text) correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([defuse(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def stream_xlsx(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=filename[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    # Closed by FileResponse once streamed; deleted by the OS on close.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _xlsx_value(value: Any) -> Any:
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: UTC, said in the header
    return defuse(value)


def export(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str):
    return (stream_xlsx if fmt == "xlsx" else stream_csv)(filename, header, rows)


# ---------------------------------------------------------------- what is exported

RESPONSE_HEADER = (
    "response_id",
    "finished_at_utc",
    "survey",
    "survey_version",
    "touchpoint",
    "channel",
    "language",
    "contact",
    "question_position",
    "question_type",
    "score",
    "text",
    "choices",
    "sentiment",
    "topics",
)


def response_rows(responses) -> Iterator[tuple]:
    """One row per answer, read in keyset-ordered chunks (`iterator`), answers joined in SQL;
    a text answer's topics (with how their clause reads) are read once per chunk."""

    answers = (
        Answer.objects.filter(response__in=responses)
        .order_by("response_id", "question__position")
        .values_list(
            "pk",
            "response_id",
            "response__finished_at",
            "response__survey__name",
            "response__version__number",
            "response__touchpoint__key",
            "response__channel",
            "response__language",
            "response__contact__user_id",
            "question__position",
            "question_type",
            "value_int",
            "value_text",
            "value_choices",
            "sentiment",
        )
    )
    chunk: list[tuple] = []
    for row in answers.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(row)
        if len(chunk) == EXPORT_CHUNK:
            yield from _with_topics(chunk)
            chunk = []
    yield from _with_topics(chunk)


EXPORT_CHUNK = 2000


def _with_topics(chunk: list[tuple]) -> Iterator[tuple]:
    topics: dict[int, list[str]] = {}
    text_ids = [row[0] for row in chunk if row[10] == "text" and row[12]]
    for answer_id, name, feeling in (
        Tag.objects.filter(answer_id__in=text_ids, suppressed=False)
        .order_by("answer_id", "span_start", "topic__name")
        .values_list("answer_id", "topic__name", "sentiment")
    ):
        label = f"{name} ({feeling})" if feeling else name
        if label not in topics.setdefault(answer_id, []):
            topics[answer_id].append(label)
    for answer_id, *head, choices, feeling in chunk:
        yield (
            *head,
            ", ".join(str(c) for c in choices) if choices else "",
            feeling,
            "; ".join(topics.get(answer_id, [])),
        )


def metric_series_export(project, query, fmt: str):

    reports = metric_reports(project, query, interval="week")
    header = (
        "metric",
        "week_start",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "low_sample",
        "partial",
        "method",
    )
    rows = [
        (
            metric,
            point["period_start"],
            point["n"],
            point["score"],
            point["ci_low"],
            point["ci_high"],
            point["low_sample"],
            point.get("partial", False),
            report["method"],
        )
        for metric, report in reports.items()
        if "series" in report
        for point in report["series"]
    ]
    return export(f"vocsite-metrics-{query.filters.since}-{query.filters.until}", header, rows, fmt)
