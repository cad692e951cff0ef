"""No raw code on any page (issue 17): the citizen portal and the staff console are visited
page by page, signed in, at 1280 and 375 px; a page fails when its visible text shows a raw
value of the reason, rule, status, gender, service or information-group vocabularies.

The vocabularies are read from their enums and catalogues (not listed here), and two shapes no
Vietnamese sentence has are refused outright: ``UPPER_SNAKE`` and ``lower_snake`` words (rule
and kind codes) and ``name.name/vN`` (service names).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest

from nidb.domain.errors import Rule
from nidb.domain.gender import Gender
from nidb.domain.review import ReviewKind
from nidb.domain.staff import StaffRole
from nidb.domain.verification import VerificationStatus
from nidb.exchange.catalogue import INFO_GROUPS, SERVICES
from nidb.identity.reasons import Reason
from nidb.web.console.dashboard_queries import clear_cache
from tests.e2e.conftest import LiveServer, Vneid, citizen_sign_in, staff_sign_in
from tests.web.console_seed import seed_register, seed_staff

SHOTS = Path("/tmp/shots-experience")
SHAPES = (
    re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"),  # NAME_TYPO, GENDER_INVALID
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),  # card_after_death, access_log
    re.compile(r"\b[a-z]+(?:\.[a-z_]+)+/v\d+\b"),  # card.check/v1
)


def vocabulary() -> set[str]:
    """Raw values that must never be shown as such (English words and codes)."""
    words: set[str] = set()
    for enum in (Reason, Rule, VerificationStatus, ReviewKind, StaffRole):
        words |= {str(member.value) for member in enum}  # type: ignore[attr-defined]
    words |= {"alive", "dead", "active", "suspended", "pending", "submitted", "approved"}
    words |= {str(name) for name in SERVICES}
    return words


def raw_values(text: str) -> list[str]:
    """The raw codes visible in ``text``."""
    found = [m.group(0) for shape in SHAPES for m in shape.finditer(text)]
    for word in vocabulary():
        if re.search(rf"(?<![\w/.-]){re.escape(word)}(?![\w/-])", text):
            found.append(word)
    # a gender or an information group shown as its bare code: a cell holding only it
    return found


def cells_with_bare_codes(page: Any) -> list[str]:
    codes = {g.value for g in Gender} | {str(g) for g in INFO_GROUPS}
    cells = page.locator("td, dd").all_inner_texts()
    return [c for c in cells if c.strip() in codes]


def visit_all(
    page: Any, base: str, start: str, prefix: str, width: int, tag: str
) -> dict[str, list[str]]:
    """Visit every page under ``prefix`` reachable by links from ``start``; their raw codes."""
    page.set_viewport_size({"width": width, "height": 900})
    seen: set[str] = set()
    queue = [start]
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(base + path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        text = page.locator("body").inner_text()
        bad = raw_values(text) + cells_with_bare_codes(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:  # the page scrolls sideways (a table may, inside its own box)
            bad.append(f"{wide} px wide")
        if bad:
            problems[path] = sorted(set(bad))
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "home"
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{tag}-{name}-{width}.png"), full_page=True)
        for href in page.locator("a[href]").evaluate_all("(as) => as.map(a => a.href)"):
            link = urlparse(urljoin(base + path, href))
            target = link.path + (f"?{link.query}" if link.query else "")
            if (
                link.netloc == urlparse(base).netloc
                and link.path.startswith(prefix)
                and "dang-xuat" not in link.path
                and not link.path.endswith((".pdf", ".xlsx", ".csv", ".png"))
                and target not in seen
            ):
                queue.append(target)
    return problems


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {', '.join(codes)}" for path, codes in problems.items())


@pytest.mark.parametrize("width", [1280, 375])
def test_no_citizen_page_shows_a_raw_code(
    page: Any, live_server: LiveServer, register: Any, vneid: Vneid, width: int
) -> None:
    citizen_sign_in(page, live_server.url)
    problems = visit_all(page, live_server.url, "/cong-dan/", "/cong-dan", width, "citizen")
    assert problems == {}, _report(problems)


@pytest.mark.parametrize("width", [1280, 375])
def test_no_console_page_shows_a_raw_code(page: Any, live_server: LiveServer, width: int) -> None:
    clear_cache()
    seed_register(live_server.engine)
    seed_staff(live_server.engine, ("qt.tw",))
    staff_sign_in(page, live_server.url, "qt.tw", engine=live_server.engine)
    problems = visit_all(page, live_server.url, "/can-bo/", "/can-bo", width, "console")
    clear_cache()
    assert problems == {}, _report(problems)


def test_the_scanner_sees_raw_codes() -> None:
    assert set(raw_values("Lý do: NAME_TYPO")) == {"NAME_TYPO"}
    assert "card_after_death" in raw_values("Quy tắc card_after_death")
    assert "card.check/v1" in raw_values("(dịch vụ card.check/v1)")
    assert "verified" in raw_values("Trạng thái: verified")
    assert raw_values("Đã xác thực với CSDL quốc gia về dân cư, 07/12/2026") == []
