"""The employer part of ``nidb demo``: an employer declares three workers through its I-VAN
provider, the month is assessed, the employer pays by bank transfer, the bank's statement is
reconciled, the workers' cards are issued and their months show as paid in the citizen portal.

Everything crosses real HTTP on loopback where it does in life: the I-VAN stand-in signs the
declaration as the employer and sends it to nidb's API (``nidb serve``'s app), which answers
signed; the bank's statement is an ISO 20022 camt.053 file as banks send them; the citizen
portal page is fetched over HTTP with a session opened as the VNeID sign-in would open it.
Running the demo again changes nothing: the declaration keeps its number, an assessed month
is kept, the bank line is known by its reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, text

from nidb.contributions.account import debt_months
from nidb.contributions.assess import assess_month
from nidb.contributions.months import add_months
from nidb.contributions.reconcile import reconcile_file
from nidb.contributions.statement import dong, statement
from nidb.employers.accounts import add_key, enrol, get_account
from nidb.protocol.keys import SigningKey
from nidb.services.workdays import today_vn
from nidb.store import people

__all__ = ["EmployerDemo", "print_employer_demo", "run_employer_demo"]

ACTOR = "demo"
PAID_THROUGH = re.compile(r"Mã số BHXH (\d{10}): đơn vị đã đóng đến tháng (\d\d/\d{4})")


@dataclass
class DemoWorker:
    personal_id: str
    full_name: str
    bhxh_code: str = ""
    card_code: str = ""
    paid_through: str = ""
    """As the citizen portal shows it ("đã đóng đến tháng mm/yyyy"); empty when not shown."""


@dataclass
class EmployerDemo:
    employer_code: str
    employer_name: str
    month: date
    declaration_no: str = ""
    declaration_status: str = ""
    workers: list[DemoWorker] = field(default_factory=list)
    due: int = 0
    paid: int = 0
    matched_lines: int = 0
    closing_debt: int = 0


def _employer(conn: Connection) -> tuple[str, str] | None:
    """The employer the demo declares for: the one enrolled by an earlier run, else the first
    active one of the register."""
    row = conn.execute(
        text(
            "SELECT e.employer_code, e.name FROM employer_accounts a "
            "JOIN employers e ON e.employer_code = a.employer_code "
            "WHERE a.enrolled_by = :actor ORDER BY e.employer_code LIMIT 1"
        ),
        {"actor": ACTOR},
    ).first()
    if row is None:
        row = conn.execute(
            text(
                "SELECT employer_code, name FROM employers WHERE status = 'active' "
                "AND employer_code NOT IN (SELECT employer_code FROM employer_accounts) "
                "ORDER BY employer_code LIMIT 1"
            )
        ).first()
    return (str(row[0]), str(row[1])) if row else None


def _workers(conn: Connection, employer_code: str, month: date) -> list[DemoWorker]:
    """The employer's workers of an earlier run, else three adults of the population extract
    who have no insurance record yet (a first job: a new BHXH code and a new card)."""
    earlier = conn.execute(
        text(
            "SELECT DISTINCT w.personal_id, c.full_name FROM declared_wages w "
            "JOIN citizens c ON c.personal_id = w.personal_id "
            "WHERE w.employer_code = :e ORDER BY w.personal_id"
        ),
        {"e": employer_code},
    ).all()
    if earlier:
        return [DemoWorker(str(p), str(n)) for p, n in earlier[:3]]
    found: list[DemoWorker] = []
    for pid, name in conn.execute(
        text(
            "SELECT personal_id, full_name FROM citizens WHERE status = 'alive' "
            "AND dob_precision = 'day' AND birth_year BETWEEN :old AND :young "
            "ORDER BY personal_id LIMIT 500"
        ),
        {"old": month.year - 50, "young": month.year - 20},
    ):
        if not people.codes_of(conn, str(pid), include_open_links=True):
            found.append(DemoWorker(str(pid), str(name)))
        if len(found) == 3:
            break
    return found


def _birth_date(conn: Connection, personal_id: str) -> str:
    return str(
        conn.execute(
            text("SELECT date_of_birth FROM citizens WHERE personal_id = :p"), {"p": personal_id}
        ).scalar_one()
    )


def _enrol(engine: Engine, code: str, public_key: str) -> None:
    with engine.begin() as conn:
        if get_account(conn, code) is None:
            enrol(conn, code, public_key, ACTOR)
        else:  # a new run: the I-VAN stand-in made a new key for the employer
            add_key(conn, code, public_key, ACTOR)


def _month(engine: Engine) -> date:
    """The month to declare and assess: the last month assessed, else the month before today."""
    with engine.connect() as conn:
        last = conn.execute(text("SELECT MAX(month) FROM contribution_runs")).scalar_one()
    if last is not None:
        return last if isinstance(last, date) else date.fromisoformat(str(last)[:10])
    return add_months(today_vn().replace(day=1), -1)


def run_employer_demo(
    engine: Engine, work_dir: Path, on_stage: Callable[[str], None] | None = None
) -> EmployerDemo | None:
    """Declare, assess, pay, reconcile; read the cards and the portal's "đã đóng đến tháng"."""
    from nidb.api.app import create_app as nidb_app
    from nidb.sim.bank.camt import Credit, write_statement
    from nidb.sim.ivan.app import create_app as ivan_app
    from nidb.sim.population import BackgroundServer
    from nidb.web.sessions import COOKIE, open_session

    say = on_stage or (lambda _: None)
    month = _month(engine)
    with engine.connect() as conn:
        chosen = _employer(conn)
        workers = _workers(conn, chosen[0], month) if chosen else []
        births = {w.personal_id: _birth_date(conn, w.personal_id) for w in workers}
    if chosen is None or len(workers) < 3:
        say("Không đủ đơn vị hoặc người để chạy phần đơn vị (not enough employers or people)")
        return None
    code, name = chosen
    demo = EmployerDemo(code, name, month, declaration_no=f"DEMO-{month:%Y%m}", workers=workers)
    with (
        BackgroundServer(nidb_app(engine, SigningKey.generate()), lifespan="on") as api,
        BackgroundServer(ivan_app(api.url)) as ivan,
        httpx.Client(base_url=ivan.url, timeout=30) as http,
    ):
        customer = http.post("/v1/admin/employers", json={"employer_code": code}).raise_for_status()
        _enrol(engine, code, customer.json()["public_key"])
        say(
            f"Đơn vị {code} ({name}) báo tăng 3 lao động từ tháng {month:%m/%Y} qua I-VAN "
            f"{ivan.url}, hồ sơ ký số gửi tới {api.url} (signed declaration over HTTP)"
        )
        body = {
            "declaration_no": demo.declaration_no,
            "kind": "increase",
            "month": f"{month:%Y-%m}",
            "workers": [
                {
                    "personal_id": w.personal_id,
                    "full_name": w.full_name,
                    "date_of_birth": births[w.personal_id],
                    "wage": wage,
                    "position": position,
                    "contract_type": "indefinite",
                    "facility_code": "01001",
                }
                for w, wage, position in zip(
                    workers,
                    (8_500_000, 12_000_000, 25_000_000),
                    ("Nhân viên bán hàng", "Kế toán", "Trưởng phòng kỹ thuật"),
                    strict=True,
                )
            ],
        }
        answer = (
            http.post(
                "/v1/declarations",
                json=body,
                headers={"authorization": f"Bearer {customer.json()['token']}"},
            )
            .raise_for_status()
            .json()
        )
        reply = answer["reply"]
        demo.declaration_status = str(reply["status"])
        for worker, result in zip(workers, reply.get("results") or [], strict=False):
            worker.bhxh_code = str(result.get("bhxh_code") or "")
            worker.card_code = str(result.get("card_code") or "")
        if demo.declaration_status != "applied":
            say(f"Hồ sơ bị từ chối (refused): {reply.get('errors')}")
            return demo

        say(f"Tính số phải đóng tháng {month:%m/%Y} (monthly assessment)")
        assess_month(engine, month, actor=ACTOR)
        with engine.connect() as conn:
            demo.due = int(statement(conn, code, month)["due"])
            owed = sum(m.total for m in debt_months(conn, code))
        if owed > 0:
            say(
                f"Đơn vị chuyển khoản {dong(owed)} ghi nội dung BHXH {code}; ngân hàng gửi sao kê "
                "camt.053, nidb đối soát (bank transfer, statement reconciled)"
            )
            path = work_dir / f"sao-ke-{code}-{month:%Y%m}.xml"
            write_statement(
                path,
                f"STMT-DEMO-{month:%Y%m}",
                "0011001234567",
                today_vn(),
                [
                    Credit(
                        f"FT-DEMO-{code}-{month:%Y%m}",
                        owed,
                        today_vn(),
                        name,
                        "0021000999888",
                        f"BHXH {code} nop tien thang {month:%m/%Y}",
                    )
                ],
            )
            report = reconcile_file(engine, path, actor=ACTOR)
            demo.matched_lines = sum(report.matched.values())
        with engine.connect() as conn:
            demo.closing_debt = sum(m.total for m in debt_months(conn, code))
            demo.paid = int(
                conn.execute(
                    text(
                        "SELECT COALESCE(SUM(amount), 0) FROM contribution_payments "
                        "WHERE employer_code = :e"
                    ),
                    {"e": code},
                ).scalar_one()
            )
        say("Công dân mở Hồ sơ của tôi trên cổng công dân (the citizen portal over HTTP)")
        for worker in workers:
            token, _ = open_session(
                engine, "citizen", worker.personal_id, {"full_name": worker.full_name}
            )
            page = httpx.get(f"{api.url}/cong-dan/ho-so", cookies={COOKIE: token}, timeout=30)
            shown = PAID_THROUGH.search(page.text)
            worker.paid_through = shown.group(2) if shown else ""
    return demo


def print_employer_demo(out: Console, demo: EmployerDemo) -> None:
    """The employer part's results, Vietnamese first."""
    state = "được chấp nhận" if demo.declaration_status == "applied" else "bị từ chối"
    out.print(
        f"Đơn vị {demo.employer_code} ({demo.employer_name}): hồ sơ báo tăng "
        f"{demo.declaration_no} {state} (declaration {demo.declaration_status})",
        highlight=False,
    )
    table = Table(title=f"Người lao động, tháng {demo.month:%m/%Y} (workers, cards, months paid)")
    for column in ("họ và tên", "mã số BHXH", "thẻ BHYT", "cổng công dân"):
        table.add_column(column)
    for w in demo.workers:
        shown = f"đã đóng đến tháng {w.paid_through}" if w.paid_through else "chưa đóng"
        table.add_row(w.full_name, w.bhxh_code, w.card_code or "—", shown)
    out.print(table)
    out.print(
        f"Phải đóng tháng {demo.month:%m/%Y}: {dong(demo.due)}; đã nộp {dong(demo.paid)} "
        f"(sao kê ngân hàng lần này: {demo.matched_lines} dòng khớp); còn nợ {dong(demo.closing_debt)} "
        "(assessed, paid, reconciled)",
        highlight=False,
    )
