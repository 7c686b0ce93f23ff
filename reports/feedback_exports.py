"""A survey's answers as XLSX: one row per response, one column per question; empty below 7 responses."""

import io

from openpyxl import Workbook

from .exports import _safe
from .models import Survey, SurveyAnswer


def survey_xlsx(survey: Survey, results: dict) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "answers"
    questions = [row["question"] for row in results["questions"]]
    sheet.append(
        ["response", "given_on", "language", *[_safe(str(question.text.get("fi", ""))) for question in questions]]
    )
    if results["suppressed"]:
        # Fewer answers than the rule allows: the file says so and holds none of them.
        summary = workbook.create_sheet("summary")
        summary.append(["responses", results["responses"]])
        summary.append(["note", f"fewer than {results['minimum']} answers: not shown"])
    else:
        _answer_rows(sheet, survey, questions)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _answer_rows(sheet, survey: Survey, questions: list) -> None:
    from .comments import masked

    by_response: dict[int, dict] = {}
    answers = (
        SurveyAnswer.objects.filter(response__survey=survey)
        .select_related("response")
        .prefetch_related("choices")
        .order_by("response_id")
    )
    for answer in answers:
        row = by_response.setdefault(
            answer.response_id,
            {"given_on": answer.response.given_on, "language": answer.response.language, "values": {}},
        )
        if answer.scale is not None:
            value: object = answer.scale
        elif answer.text:
            value = _safe(masked(answer.text))
        else:
            value = ";".join(str(choice.text.get("fi", "")) for choice in answer.choices.all())
        row["values"][answer.question_id] = value
    for response_id, row in sorted(by_response.items()):
        sheet.append(
            [
                response_id,
                row["given_on"],
                row["language"],
                *[row["values"].get(question.pk, "") for question in questions],
            ]
        )
