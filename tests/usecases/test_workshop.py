"""Workshop I/O: YAML and CSV round trips, one transaction per import, errors naming row and column."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from sqlalchemy import func, select

from shipyard.core.auth import LOCAL_ADMIN, Principal, Role
from shipyard.core.errors import ConflictError, InvalidParameterError, PermissionDeniedError, ShipyardError
from shipyard.core.platform import Platform
from shipyard.core.tables import AuditEvent
from shipyard.usecases import matrix, redflags, report, workshop
from shipyard.usecases.tables import Kpi, KpiValue, Portfolio, UseCase, UseCaseCheck, UseCaseScore

EDITOR = Principal(name="eddie", role=Role.EDITOR)


def counts(platform: Platform) -> dict[str, int]:
    with platform.database.session() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Portfolio, UseCase, UseCaseScore, UseCaseCheck, Kpi, KpiValue, AuditEvent)
        }


def without_ids(document: dict) -> dict:
    document = dict(document)
    document["portfolio"] = {k: v for k, v in document["portfolio"].items() if k != "name"}
    return document


def test_example_portfolio_imports_and_round_trips_through_yaml(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        result = workshop.import_yaml(session, actor=LOCAL_ADMIN, text=workshop.example_portfolio())
        assert (result.use_cases, result.kpis) == (12, 4)
        first = workshop.export_yaml(session, portfolio_id=result.portfolio.id)
    with platform.database.session(write=True) as session:
        again = workshop.import_yaml(session, actor=LOCAL_ADMIN, text=first, name="copy")
        second = workshop.export_yaml(session, portfolio_id=again.portfolio.id)
    assert without_ids(yaml.safe_load(first)) == without_ids(yaml.safe_load(second))
    document = yaml.safe_load(first)
    churn = next(u for u in document["use_cases"] if u["key"] == "churn-alerts")
    assert churn["votes"]["ana"]["economic_value"] == 5.0 and churn["roi"]["build_cost"] == 70000.0
    assert len(churn["checks"]) == 19
    signed = [c for u in document["use_cases"] for c in u["checks"] if c["status"] == "signed_off"]
    assert signed == [
        {
            "category": "human_aspect",
            "question": "Will the users accept and trust the recommendations? How are they involved?",
            "answer": signed[0]["answer"],
            "owner": "Mira Schulz",
            "status": "signed_off",
            "red_flag": True,
            "signed_off_by": "Petra Vogel (COO office)",
            "signoff_reason": "Works council agreement of 2026-10-12 covers cropping and retention.",
        }
    ]


def test_example_portfolio_reads_as_a_workshop_outcome(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        result = workshop.import_yaml(session, actor=LOCAL_ADMIN, text=workshop.example_portfolio())
        built = matrix.build_matrix(session, portfolio_id=result.portfolio.id)
        quadrants = {p.quadrant.value for p in built.points if p.quadrant}
        assert quadrants == {"quick_win", "strategic_bet", "fill_in"} and len(built.points) == 12
        assert len({p.business_unit for p in built.points}) >= 4
        assert any(p.scores.disagreement for p in built.points)
        blocked = [p.key for p in built.points if redflags.open_red_flags(session, use_case_id=p.use_case_id)]
        assert sorted(blocked) == ["claims-fraud", "delivery-eta", "driver-screening", "reply-drafts"]
        markdown = report.render(session, portfolio_id=result.portfolio.id)
        assert "![Prioritisation matrix](matrix.png)" in markdown and "## Chosen clusters" in markdown
        assert (
            "Round 1: chose the cluster" in markdown
            and "Could the model treat groups of people unfairly" in markdown
        )
        assert "| 1 | Churn early warning for business customers |" in markdown
        page = report.render(session, portfolio_id=result.portfolio.id, fmt="html")
        assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Churn early warning" in page


def test_csv_round_trip(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        result = workshop.import_yaml(session, actor=LOCAL_ADMIN, text=workshop.example_portfolio())
        sheet = workshop.export_csv(session, portfolio_id=result.portfolio.id)
        rows = list(csv.DictReader(io.StringIO(sheet)))
        assert len(rows) == 12 and rows[0]["economic_value@ana"] == "5"
        assert rows[0]["input_data"] == "CRM customer records; Shipment tracking events; Support tickets"
        # CSV carries no portfolio settings: give the example's weights so that the ranking matches.
        again = workshop.import_csv(
            session, actor=LOCAL_ADMIN, text=sheet, name="from csv", weights=result.portfolio.weights
        )
        assert (again.use_cases, again.votes) == (12, result.votes)
        assert workshop.export_csv(session, portfolio_id=again.portfolio.id) == sheet
        original = matrix.build_matrix(session, portfolio_id=result.portfolio.id)
        copied = matrix.build_matrix(session, portfolio_id=again.portfolio.id)
        assert [(p.key, p.rank, p.quadrant) for p in copied.points] == [
            (p.key, p.rank, p.quadrant) for p in original.points
        ]


BAD_YAML = [
    (
        "portfolio: {name: x}\nuse_cases:\n  - key: a\n    title: A\n"
        "    kpis: [{name: K, values: [{value: lots}]}]\n",
        "use_cases[0] (a).kpis[0].values[0].value must be a finite number; got 'lots'",
    ),
    ("portfolio: {name: x\nuse_cases: []\n", "YAML line 2, column 10: expected ',' or '}'"),
    ("- just\n- a list\n", "must be a mapping with 'portfolio' and 'use_cases'"),
    ("portfolio: {name: x}\nextra: 1\n", "YAML line 2: extra: unknown top-level key"),
    (
        "portfolio: {name: x, ease_floor: 9}\n",
        "YAML line 1: portfolio.ease_floor must be a number from 0 to 5",
    ),
    (
        "portfolio:\n  name: x\n  description: d\n  weights: {value: {reach: 1}}\n",
        "YAML line 4: portfolio.weights.value.reach: unknown value dimension 'reach'",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - {key: a, title: A}\n  - key: b\n    title: B\n"
        "    votes: {ana: {economic_value: 7}}\n",
        "YAML line 4: use_cases[1] (b).votes.ana: scores.economic_value must be between 0 and 5; got 7",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - {key: a, title: A, votes: {ana: {reach: 3}}}\n",
        "unknown dimension 'reach'",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - {key: a, title: A}\n  - {key: a, title: Again}\n",
        "YAML line 4: portfolio 'x' already has a use case 'a'",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - key: a\n    title: A\n    status: launched\n",
        "YAML line 5: use_cases[0] (a).status must be one of idea",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - key: a\n    title: A\n"
        "    kpis: [{name: K, values: [{value: 1, "
        "observed_at: yesterday}]}]\n",
        "YAML line 3: use_cases[0] (a).kpis[0].values[0].observed_at must be an ISO 8601 time",
    ),
    (
        "portfolio: {name: x}\nuse_cases:\n  - {key: a, title: A, checks: [{category: x, question: q}]}\n",
        "YAML line 3: use_cases[0] (a).checks[0].category must be one of",
    ),
]


@pytest.mark.parametrize(("text", "words"), BAD_YAML)
def test_malformed_yaml_names_the_place_and_imports_nothing(
    platform: Platform, text: str, words: str
) -> None:
    before = counts(platform)
    with pytest.raises(ShipyardError) as caught, platform.database.session(write=True) as session:
        workshop.import_yaml(session, actor=EDITOR, text=text)
    assert words in caught.value.message, caught.value.message
    assert counts(platform) == before


def test_duplicate_portfolio_name_is_a_conflict(platform: Platform) -> None:
    with platform.database.session(write=True) as session:
        workshop.import_yaml(session, actor=EDITOR, text="portfolio: {name: twice}\n")
    with pytest.raises(ConflictError), platform.database.session(write=True) as session:
        workshop.import_yaml(session, actor=EDITOR, text="portfolio: {name: twice}\n")


def test_importing_sign_offs_needs_an_approver(platform: Platform) -> None:
    text = (
        "portfolio: {name: s}\nuse_cases:\n  - key: a\n    title: A\n    checks:\n"
        "      - {category: cybersecurity, question: Q, red_flag: true, status: signed_off,\n"
        "         signoff_reason: ok}\n"
    )
    before = counts(platform)
    with pytest.raises(PermissionDeniedError), platform.database.session(write=True) as session:
        workshop.import_yaml(session, actor=EDITOR, text=text)
    assert counts(platform) == before
    with platform.database.session(write=True) as session:
        workshop.import_yaml(session, actor=Principal(name="april", role=Role.APPROVER), text=text)


HEADER = "key,title,status,input_data,roi_build_cost,economic_value@ana,know_how@ana\n"
BAD_CSV = [
    ("title,colour\nA,blue\n", "CSV row 1, column 'colour': unknown column"),
    ("key,owner\na,b\n", "CSV row 1: the header has no 'title' column"),
    ("title,charisma@ana\nA,3\n", "CSV row 1, column 'charisma@ana': unknown dimension"),
    (HEADER + "a,A,idea,CRM,100,4,3\nb,B,idea,CRM,100,7,3\n", "CSV row 3, column 'economic_value@ana'"),
    (HEADER + "a,A,idea,CRM,100,four,3\n", "CSV row 2, column 'economic_value@ana': expected a number"),
    (HEADER + "a,A,idea,CRM,-5,4,3\n", "CSV row 2, column 'roi_build_cost': roi.build_cost must be between"),
    (HEADER + "a,A,launched,CRM,1,4,3\n", "CSV row 2, column 'status': status must be one of"),
    (HEADER + "a,,idea,CRM,1,4,3\n", "CSV row 2, column 'title': title must not be empty"),
    (HEADER + "a,A,idea,CRM,1,4,3,extra\n", "CSV row 2: more cells than columns"),
    (
        HEADER + "a,A,idea,CRM,1,4,3\na,B,idea,CRM,1,4,3\n",
        "CSV row 3: portfolio 'sheet' already has a use case",
    ),
    (HEADER + 'a,"A,idea\n', "CSV row"),
]


@pytest.mark.parametrize(("text", "words"), BAD_CSV)
def test_malformed_csv_names_row_and_column_and_imports_nothing(
    platform: Platform, text: str, words: str
) -> None:
    before = counts(platform)
    with pytest.raises(ShipyardError) as caught, platform.database.session(write=True) as session:
        workshop.import_csv(session, actor=EDITOR, text=text, name="sheet")
    assert words in caught.value.message, caught.value.message
    assert counts(platform) == before


def test_csv_with_blank_cells_and_rows(platform: Platform) -> None:
    text = HEADER + "a,Alpha,,CRM; ERP,,4,\n,,,,,,\nb,Beta,assessed,,,,2\n"
    with platform.database.session(write=True) as session:
        result = workshop.import_csv(session, actor=EDITOR, text="\ufeff" + text, name="sheet")
        assert (result.use_cases, result.votes) == (2, 2)
        points = {p.key: p for p in matrix.build_matrix(session, portfolio_id=result.portfolio.id).points}
        assert points["a"].input_data == ("CRM", "ERP") and points["a"].ease is None
        assert points["b"].status == "assessed"


def test_oversized_content_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="limit"):
        workshop.parse_yaml("a" * (workshop.MAX_IMPORT_CHARS + 1))


def test_empty_and_unscored_portfolios_still_report(platform: Platform) -> None:
    from shipyard.usecases import canvas, plot

    with platform.database.session(write=True) as session:
        empty = canvas.create_portfolio(session, actor=EDITOR, name="empty")
        assert "No red flags raised." in report.render(session, portfolio_id=empty.id)
        assert plot.render_matrix(matrix.build_matrix(session, portfolio_id=empty.id)).startswith(b"\x89PNG")
        canvas.create_use_case(
            session, actor=EDITOR, portfolio_id=empty.id, values={"title": "Unscored idea"}
        )
        page = report.render(session, portfolio_id=empty.id, fmt="html")
        assert "Unscored idea" in page and "not scored" in page and "has no value and ease scores yet" in page
