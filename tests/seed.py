"""The one way tests seed a small register.

``Register`` writes rows on the caller's connection (so they commit or roll back with the rest
of the caller's transaction); every method takes keyword defaults for what a test does not care
about and returns the register, so rows chain::

    with seed.register(engine) as reg:
        reg.citizen(PID, "Nguyễn Văn An", "1985-03-17").person(BHXH, verified=PID).card(BHXH)

Derived columns are derived the way the register derives them: ``name_base`` from
``nidb.domain.names.name_forms``, ``birth_year`` and ``dob_precision`` from the date of birth
("1985" is a year, "1985-03" a month, "1985-03-17" a day).

Below the builder are the named registers several test folders start from: one insured person
(``insured_person``), the same person as the citizen portal shows them (``portal``) and a
household with claimants (``household``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from sqlalchemy import Connection, Engine, insert

from nidb.domain.names import name_forms
from nidb.services.workdays import add_months, today_vn
from nidb.store import models, models_employment

_PRECISION = {4: "year", 7: "month", 10: "day"}


def _person_name(full_name: str, name_base: str | None) -> tuple[str, str]:
    return full_name, name_base if name_base is not None else name_forms(full_name).base


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


class Register:
    """Rows of the register, written at once on ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, table: Any, **values: Any) -> Any:
        return self.conn.execute(insert(table).values(**values))

    def citizen(
        self,
        personal_id: str,
        full_name: str = "Nguyễn Văn An",
        born: str = "1985-03-17",
        gender: str = "M",
        *,
        name_base: str | None = None,
        birth_province: str | None = None,
        address: str | None = None,
        household: str | None = None,
        died: date | None = None,
    ) -> Self:
        """A citizen of the population register (alive unless ``died``); the birth province
        defaults to the ID's first three digits."""
        full_name, name_base = _person_name(full_name, name_base)
        self._insert(
            models.Citizen,
            personal_id=personal_id,
            full_name=full_name,
            name_base=name_base,
            date_of_birth=born,
            dob_precision=_PRECISION[len(born)],
            birth_year=int(born[:4]),
            gender=gender,
            birth_province=birth_province or personal_id[:3],
            permanent_address=address,
            household_id=household,
            status="dead" if died else "alive",
            death_date=died,
        )
        return self

    def person(
        self,
        bhxh_code: str,
        full_name: str = "Nguyễn Văn An",
        born: str = "1985-03-17",
        gender: str | None = "M",
        *,
        record_id: str | None = None,
        name_base: str | None = None,
        declared_id: str | None = None,
        declared_id_kind: str | None = None,
        verified: str | None = None,
        verified_at: datetime | None = None,
        status: str | None = None,
        birth_province: str | None = None,
        address: str | None = None,
        employer: str | None = None,
    ) -> Self:
        """An insurance record (``R-<code>`` unless ``record_id``); ``verified`` is the personal
        ID verification linked it to, which makes its status "verified" unless ``status``."""
        full_name, name_base = _person_name(full_name, name_base)
        self._insert(
            models.Person,
            record_id=record_id or f"R-{bhxh_code}",
            bhxh_code=bhxh_code,
            full_name=full_name,
            name_base=name_base,
            date_of_birth=born,
            dob_precision=_PRECISION[len(born)],
            birth_year=int(born[:4]),
            gender=gender,
            declared_id=declared_id,
            declared_id_kind=declared_id_kind,
            birth_province=birth_province,
            address=address,
            employer_code=employer,
            verification_status=status or ("verified" if verified else "unverified"),
            verified_personal_id=verified,
            verified_at=verified_at,
        )
        return self

    def link(
        self,
        bhxh_code: str,
        personal_id: str,
        *,
        source: str = "verified",
        valid_from: date | datetime = date(2024, 1, 1),
        valid_to: date | datetime | None = None,
    ) -> Self:
        """An identity link between a BHXH code and a personal ID."""
        self._insert(
            models.IdentityLink,
            bhxh_code=bhxh_code,
            personal_id=personal_id,
            source=source,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        return self

    def employer(
        self,
        employer_code: str,
        name: str = "Công ty TNHH An Bình",
        *,
        province: str = "01",
        employer_type: str = "enterprise",
        status: str = "active",
        enterprise_code: str | None = None,
        address: str | None = None,
        business_line: str | None = None,
        registered_workers: int | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> Self:
        """An employer (đơn vị sử dụng lao động)."""
        self._insert(
            models.Employer,
            employer_code=employer_code,
            enterprise_code=enterprise_code,
            name=name,
            province=province,
            address=address,
            business_line=business_line,
            employer_type=employer_type,
            registered_workers=registered_workers,
            status=status,
            phone=phone,
            email=email,
        )
        return self

    def period(
        self,
        bhxh_code: str,
        employer: str | None,
        *,
        start: date,
        end: date | None = None,
        scheme: str = "BHXH",
        participant_type: str = "DN",
    ) -> Self:
        """A participation period in one scheme, open unless ``end``."""
        self._insert(
            models.ParticipationPeriod,
            bhxh_code=bhxh_code,
            scheme=scheme,
            employer_code=employer,
            participant_type=participant_type,
            start_month=start,
            end_month=end,
        )
        return self

    def contributions(
        self,
        bhxh_code: str,
        employer: str,
        first: date,
        last: date,
        wage: int,
        *,
        bhxh: int | None = None,
        bhyt: int | None = None,
        bhtn: int | None = None,
    ) -> Self:
        """A contribution for every month from ``first`` to ``last``, at 25.5 % (BHXH), 4.5 %
        (BHYT) and 2 % (BHTN) of ``wage`` unless the amounts are given."""
        rows = []
        month = first.replace(day=1)
        while month <= last:
            rows.append(
                {
                    "bhxh_code": bhxh_code,
                    "employer_code": employer,
                    "period": month,
                    "wage": wage,
                    "bhxh_amount": wage * 255 // 1000 if bhxh is None else bhxh,
                    "bhyt_amount": wage * 45 // 1000 if bhyt is None else bhyt,
                    "bhtn_amount": wage * 2 // 100 if bhtn is None else bhtn,
                }
            )
            month = _month_after(month)
        if rows:
            self.conn.execute(insert(models.Contribution), rows)
        return self

    def card(
        self,
        bhxh_code: str,
        group: str = "DN",
        *,
        valid_from: date,
        valid_to: date,
        level: int = 4,
        province: str = "01",
        facility: str | None = None,
        status: str = "active",
        card_code: str | None = None,
        five_years_from: date | None = None,
    ) -> Self:
        """A health-insurance card; its code is group, level, province and BHXH code unless
        ``card_code``, its facility the province's ``001`` unless ``facility``."""
        self._insert(
            models.HealthCard,
            card_code=card_code or f"{group}{level}{province}{bhxh_code}",
            bhxh_code=bhxh_code,
            group_code=group,
            benefit_level=level,
            province_code=province,
            facility_code=facility or f"{province}001",
            valid_from=valid_from,
            valid_to=valid_to,
            five_years_from=five_years_from,
            status=status,
        )
        return self

    def benefit(
        self,
        bhxh_code: str,
        kind: str,
        start: date,
        *,
        end: date | None = None,
        monthly: int | None = None,
        lump_sum: int | None = None,
        status: str = "active",
        decided_at: datetime | None = None,
    ) -> Self:
        """A benefit being paid (or ended, stopped: ``status``)."""
        self._insert(
            models.Benefit,
            bhxh_code=bhxh_code,
            kind=kind,
            start_date=start,
            end_date=end,
            monthly_amount=monthly,
            lump_sum=lump_sum,
            status=status,
            decided_at=decided_at,
        )
        return self

    def wage(
        self,
        employer: str,
        bhxh_code: str,
        wage: int,
        from_month: str,
        to_month: str | None = None,
        *,
        personal_id: str | None = None,
        contract_type: str = "indefinite",
        full_time: bool = True,
        social: bool = True,
        health: bool = True,
        unemployment: bool = True,
        declaration_id: int | None = None,
    ) -> Self:
        """A declared contribution salary (declared_wages) over months 'YYYY-MM' .. 'YYYY-MM'."""

        def month(text: str) -> date:
            return date.fromisoformat(text + "-01")

        self._insert(
            models_employment.DeclaredWage,
            employer_code=employer,
            bhxh_code=bhxh_code,
            personal_id=personal_id,
            from_month=month(from_month),
            to_month=month(to_month) if to_month else None,
            wage=wage,
            contract_type=contract_type,
            full_time=full_time,
            social=social,
            health=health,
            unemployment=unemployment,
            declaration_id=declaration_id,
        )
        return self


@contextmanager
def register(engine: Engine) -> Iterator[Register]:
    """A ``Register`` in one transaction on ``engine``, committed at the end of the block."""
    with engine.begin() as conn:
        yield Register(conn)


# --- one insured person (the exchange, the API, the feeds and the portal start from here) -----

BHXH = "0123456789"
PID = "001085012345"
EMPLOYER = "TA0001A"
TODAY = date.today()


def insured_person(engine: Engine) -> None:
    """One verified person with a current DN card, BHXH/BHYT/BHTN periods and contributions."""
    with register(engine) as reg:
        reg.citizen(
            PID,
            "Nguyễn Văn An",
            "1985-03-17",
            birth_province="01",
            address="Hà Nội",
            household="HK-001",
        )
        reg.person(
            BHXH,
            "Nguyễn Văn An",
            "1985-03-17",
            record_id="R1",
            declared_id=PID,
            verified=PID,
            birth_province="01",
            address="Hà Nội",
            employer=EMPLOYER,
        )
        reg.employer(
            EMPLOYER, "Công ty TNHH An Bình", enterprise_code="0101234567", registered_workers=12
        )
        reg.card(
            BHXH,
            "DN",
            valid_from=date(TODAY.year, 1, 1),
            valid_to=date(TODAY.year, 12, 31),
            five_years_from=date(2020, 1, 1),
        )
        for scheme in ("BHXH", "BHYT", "BHTN"):
            reg.period(BHXH, EMPLOYER, scheme=scheme, start=date(2015, 1, 1))
        reg.contributions(
            BHXH,
            EMPLOYER,
            date(2025, 1, 1),
            date(2025, 3, 1),
            10_000_000,
            bhxh=2_500_000,
            bhyt=450_000,
            bhtn=200_000,
        )


# --- the citizen portal: the insured person, what partners read of them, and a stranger ------

OTHER_PID = "079190001234"  # another citizen, whose data must never show on the first one's pages
OTHER_BHXH = "7912345678"
HOSPITAL = "VN/GOV/BYT/BV-01001"


def portal(engine: Engine, hospital_key_b64: str) -> None:
    """``insured_person`` plus a benefit, a hospital's card check of the person, and another
    person (read by the hospital) whose data must stay hidden."""
    from nidb.accesslog import AccessRecord, append
    from nidb.exchange.partners import add_partner

    insured_person(engine)
    add_partner(engine, HOSPITAL, "Bệnh viện Bạch Mai", "hospital", hospital_key_b64, "t")
    with register(engine) as reg:
        reg.benefit(
            BHXH,
            "sickness",
            date(2025, 2, 3),
            end=date(2025, 2, 7),
            lump_sum=1_250_000,
            status="ended",
        )
        reg.person(
            OTHER_BHXH,
            "Trần Thị Bình",
            "1990-07-02",
            "F",
            record_id="R2",
            declared_id=OTHER_PID,
            verified=OTHER_PID,
        )
        reg.contributions(
            OTHER_BHXH,
            EMPLOYER,
            date(2025, 1, 1),
            date(2025, 1, 1),
            99_999_000,
            bhxh=1,
            bhyt=1,
            bhtn=1,
        )
        append(
            reg.conn,
            [
                AccessRecord(
                    actor=HOSPITAL,
                    service="card.check/v1",
                    result="ok",
                    purpose="KCB",
                    subject=BHXH,
                    fields="dd",
                ),
                AccessRecord(
                    actor=HOSPITAL,
                    service="person.summary/v1",
                    result="ok",
                    purpose="GQCD",
                    subject=OTHER_BHXH,
                    fields="a",
                ),
            ],
        )


# --- a household for the online services: a family, claimants, their contributions ----------

TODAY_VN = today_vn()  # the day in Vietnam, as the services count it
HOUSEHOLD = "HK-100"
# household head (man, 1980), wife (1982), son (2010), a daughter with an employer's card (2000)
HEAD, WIFE, SON, WORKER = "001080000101", "001182000102", "001210000103", "001300000104"
HEAD_CODE, WIFE_CODE, SON_CODE, WORKER_CODE = "0100000101", "0100000102", "0100000103", "0100000104"
# a claimant whose last contribution was 14 months ago; an employee laid off last month
LEFT, LAID_OFF = "079085000201", "079190000202"
LEFT_CODE, LAID_OFF_CODE = "7900000201", "7900000202"
STRANGER = "001075000999"  # a citizen of the register with no BHXH code
HOME = "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội"


def household_member(
    reg: Register,
    pid: str,
    name: str,
    born: str,
    gender: str,
    code: str | None,
    *,
    household: str | None = HOUSEHOLD,
    address: str | None = HOME,
) -> None:
    """A citizen and, with a BHXH ``code``, their verified record (``R-<personal ID>``)."""
    reg.citizen(pid, name, born, gender, address=address, household=household)
    if code is not None:
        reg.person(
            code,
            name,
            born,
            gender,
            record_id=f"R-{pid}",
            declared_id=pid,
            birth_province=pid[:3],
            verified=pid,
            verified_at=datetime.now(UTC),
        )


def household(engine: Engine) -> None:
    """The register the online-service tests start from."""
    today = TODAY_VN
    with register(engine) as reg:
        reg.employer("DN0001", "Công ty TNHH Minh Long", province="79")
        household_member(reg, HEAD, "Nguyễn Văn Hùng", "1980-04-02", "M", HEAD_CODE)
        household_member(reg, WIFE, "Trần Thị Mai", "1982-07-09", "F", WIFE_CODE)
        household_member(reg, SON, "Nguyễn Minh Khôi", "2010-11-20", "M", SON_CODE)
        household_member(reg, WORKER, "Nguyễn Thị Lan", "2000-01-15", "F", WORKER_CODE)
        household_member(reg, STRANGER, "Lê Văn Tư", "1975-05-05", "M", None, household="HK-999")
        household_member(
            reg, LEFT, "Phạm Văn Bình", "1985-02-03", "M", LEFT_CODE, household="HK-200"
        )
        household_member(
            reg, LAID_OFF, "Võ Thị Hoa", "1990-06-12", "F", LAID_OFF_CODE, household="HK-300"
        )
        # the head's household card ends in 10 days; the wife's lapsed; the son never had one
        reg.card(
            HEAD_CODE,
            "GD",
            valid_from=today - timedelta(days=355),
            valid_to=today + timedelta(days=10),
        )
        reg.card(
            WIFE_CODE,
            "GD",
            valid_from=today - timedelta(days=500),
            valid_to=today - timedelta(days=100),
        )
        reg.card(
            WORKER_CODE,
            "DN",
            valid_from=today - timedelta(days=100),
            valid_to=today + timedelta(days=200),
        )
        # 2012-01 .. 14 months ago: 12 months before 2014 and the rest after, 8,000,000 đ
        reg.contributions(
            LEFT_CODE, "DN0001", date(2012, 1, 1), add_months(today, -14), 8_000_000, bhtn=0
        )
        # 40 months up to last month, 10,000,000 đ
        reg.contributions(
            LAID_OFF_CODE, "DN0001", add_months(today, -40), add_months(today, -1), 10_000_000
        )


def citizen_session(engine: Engine, personal_id: str, full_name: str) -> str:
    """A signed-in citizen's cookie value, as the VNeID sign-in would have created it."""
    from nidb.store.models_web import WebSession
    from nidb.web.sessions import token_hash

    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(WebSession).values(
                token_hash=token_hash(token),
                kind="citizen",
                subject=personal_id,
                data={"full_name": full_name},
                csrf_token=secrets.token_urlsafe(32),
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    return token
