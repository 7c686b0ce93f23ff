"""The period report as a file: PDF (weasyprint), XLSX (openpyxl) and one CSV per table.

Every file is made from the same suppressed tables as the period report page
(`tables.suppressed`), so what leaves the system never shows a small count.
"""

import csv
import io

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from .tables import Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """A text cell that a spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != "–":
        return "'" + value
    return value


def _filename(context: dict, extension: str, table: str = "") -> str:
    period = context["period"]
    name = f"period-report-{period.start.isoformat()}-{period.end.isoformat()}"
    if table:
        name += f"-{table}"
    return f"{name}.{extension}"


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pdf_response(request, context: dict) -> HttpResponse:
    from weasyprint import HTML  # imported here: loading Pango takes a moment, and only PDFs need it

    html = render_to_string("reports/period_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return _attachment(HttpResponse(pdf, content_type="application/pdf"), _filename(context, "pdf"))


def _table_rows(table: Table) -> list[list]:
    rows = [[str(table.title)], [""] + [str(column.label) for column in table.columns]]
    for row in table.rows:
        rows.append([str(row.label), *row.values])
    if table.total is not None:
        rows.append([str(table.total.label), *table.total.values])
    return rows


def xlsx_response(context: dict) -> HttpResponse:
    workbook = Workbook()
    cover = workbook.active
    cover.title = "report"
    cover.append([context["period_label"]])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([context["period"].start.isoformat(), context["period"].end.isoformat()])
    evaluation = context.get("evaluation")
    if evaluation is not None:
        for label, text in (
            (context["labels"]["successes"], evaluation.successes),
            (context["labels"]["challenges"], evaluation.challenges),
            (context["labels"]["lessons"], evaluation.lessons),
        ):
            cover.append([])
            cover.append([str(label)])
            cover.append([_safe(text)])
    for table in context["tables"]:
        sheet = workbook.create_sheet(table.key[:31])
        for values in _table_rows(table):
            sheet.append([_safe(value) for value in values])
        sheet["A1"].font = Font(bold=True)
        sheet.column_dimensions["A"].width = 36
        if table.note:
            sheet.append([])
            sheet.append([str(table.note)])
        if table.chart and table.rows:
            chart = BarChart()
            chart.type = "bar"
            chart.title = str(table.title)
            first_row, last_row = 3, 2 + len(table.rows)
            for index in table.chart:
                data = Reference(sheet, min_col=index + 2, min_row=2, max_row=last_row)
                chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=first_row, max_row=last_row))
            sheet.add_chart(chart, f"{chr(ord('B') + len(table.columns) + 1)}2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return _attachment(response, _filename(context, "xlsx"))


def csv_response(context: dict, table: Table) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["", *[str(column.label) for column in table.columns]])
    for row in table.rows:
        writer.writerow([_safe(str(row.label)), *[_safe(value) if value is not None else "" for value in row.values]])
    if table.total is not None:
        writer.writerow([str(table.total.label), *[value if value is not None else "" for value in table.total.values]])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, _filename(context, "csv", table.key))
