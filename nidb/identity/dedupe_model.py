"""The dedupe model: the records' own extra evidence, for ``nidb dedupe`` only.

``nidb match`` compares a record with the population registry; ``nidb dedupe`` compares records
with each other, and two records of one person carry evidence that a registry row does not:

- **birth province**, from the ``birth_province`` column or else from the first three digits
  of a 12-digit personal ID (the code of the province of birth), so a record without the
  column still says where its person was born;
- **province of residence**, the province name the address ends with, however the address
  is written (commas, hyphens or no separator; TP.HCM, Sài Gòn; a country at the end), mapped
  to the 34-province list of 1 July 2025 (old and new names alike), so two addresses in different communes of one
  province — a person who moved, or an older address on the second code — agree on something,
  and two namesakes in different provinces disagree.

The name, birth date, personal ID, old ID (CMND) and gender comparisons are the matching
model's (``nidb.identity.model``): two records carrying one old 9-digit ID are evidence as two
carrying one personal ID are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule

from nidb.domain.names import strip_diacritics
from nidb.domain.provinces import PROVINCES_34, PROVINCES_63, successor
from nidb.identity import model

BLOCKING_RULES = [
    "l.bhxh_code = r.bhxh_code",
    "l.pid12 = r.pid12",
    "l.cmnd9 = r.cmnd9",
    "l.name_flat = r.name_flat AND l.dob_year = r.dob_year",
    "l.family = r.family AND l.given = r.given AND l.dob_year = r.dob_year "
    "AND l.birth_place = r.birth_place",
    f"l.given = r.given AND {model.SAME_DAY_AND_MONTH}",
    f"l.family = r.family AND {model.SAME_DAY_AND_MONTH} AND left(l.given, 1) = left(r.given, 1)",
]
"""Candidate pairs: the matching model's rules, searched over all records (a record has no
registry ID to be confirmed against), plus a shared BHXH code."""

TWO_EDITS_SHARE = 0.003
"""Share of one person's record pairs whose names are two edits apart (two typos)."""
OTHER_BIRTH_PLACE_SHARE = 0.01
"""Share of one person's record pairs whose birth provinces differ (a code typed wrong)."""
OTHER_DAY_SHARE = 0.01
"""Share of one person's record pairs with the same birth year but another day (a typed digit).

The generator never does this, so EM would learn "never" and veto such pairs outright."""
MOVED_SHARE = 0.05
"""Share of one person's record pairs, birth province unknown, living in two provinces.

The generator's people move only within their province, so EM would learn "never" and veto
such pairs outright; people do move between provinces, and these floors keep a disagreement
strong evidence without making it proof. The four shares are the prior of ``learned_shares``,
which learns them from each batch (``Shares``)."""

_UNSPACED = "replace(name_lower_{0}, ' ', '')"
"""The name as typed, lower-case, without its spaces: Vietnamese names are written syllable by
syllable, so two names whose letters agree but whose words are joined or split differently
(Thị Hương, ThịHương) are one name, not a typo."""


def _name(two_edits_share: float) -> cl.CustomComparison:
    """The name levels (``NAME``), the two-edit levels' m given."""
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_base"),
            cll.CustomLevel(
                f"{_UNSPACED.format('l')} = {_UNSPACED.format('r')}", "exact"
            ).configure(tf_adjustment_column="name_flat", tf_adjustment_weight=1.0),
            cll.CustomLevel(
                "name_flat_l = name_flat_r "
                f"AND ({_UNSPACED.format('l')} = name_flat_l OR {_UNSPACED.format('r')} = name_flat_r)",
                "typed without diacritics",
            ).configure(tf_adjustment_column="name_flat", tf_adjustment_weight=1.0),
            cll.CustomLevel("name_flat_l = name_flat_r", "other diacritics").configure(
                tf_adjustment_column="name_flat", tf_adjustment_weight=1.0
            ),
            cll.CustomLevel(model.MIDDLE_NAME_MISSING, "middle missing"),
            cll.CustomLevel(model.name_edits_at_most(1), "one typo"),
            # hardly ever seen between one person's records, so EM cannot learn it: fixed
            cll.CustomLevel(model.name_edits_at_most(2), "two edits").configure(
                m_probability=two_edits_share, fix_m_probability=True
            ),
            cll.CustomLevel(
                "family_l = family_r AND given_l = given_r", "family and given"
            ).configure(m_probability=two_edits_share, fix_m_probability=True),
            cll.ElseLevel(),
        ],
    )


NAME = _name(TWO_EDITS_SHARE)
"""The matching model's name levels, with two splits that matter between records of one
insurer: a name typed without any diacritics (an old ASCII system) is the same name, while two
names both written with diacritics that differ in them (Hùng, Hưng) may be two people — twins
are often named so; and one typo is a typo (the levels ignore the spaces between words), while two edits are as often another name (Nga,
Ngọc)."""

_FULL_DATE = "dob_precision_{0} = 'day' AND NOT (dob_month_{0} = 1 AND dob_day_{0} = 1)"


def _birth_date(other_day_share: float) -> cl.CustomComparison:
    """The levels of ``BIRTH_DATE``, the fixed m given."""
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob_year"),
            cll.CustomLevel(
                f"dob_year_l = dob_year_r AND dob_month_l = dob_month_r AND dob_day_l = dob_day_r "
                f"AND {_FULL_DATE.format('l')} AND {_FULL_DATE.format('r')}",
                "exact",
            ),
            *model.partial_date_levels(),
            cll.CustomLevel("dob_year_l = dob_year_r", "same year").configure(
                m_probability=other_day_share, fix_m_probability=True
            ),
            cll.CustomLevel("abs(dob_year_l - dob_year_r) = 1", "one year apart"),
            cll.ElseLevel(),
        ],
    )


BIRTH_DATE = _birth_date(OTHER_DAY_SHARE)
"""The matching model's birth-date levels, but "exact" means a full date: two records that know
only the year (or the 1 January placeholder) of one birth agree on far less than a day — as an
"exact" agreement, two namesakes born in 1957 looked like one person."""


def personal_id(shared_share: float) -> cl.CustomComparison:
    """The matching model's ID levels, knowing how rare a shared 12-digit ID is.

    ``shared_share`` is the share of all record pairs that hold one 12-digit ID (an upper
    bound on how often two different people's records do: most such pairs are one person's).
    Random sampling almost never draws such a pair, which left the level's weight a guess.
    """
    return model.id_comparison("pid", "pid12", model.ONE_DIGIT_OFF, shared_share)


def old_id(shared_share: float) -> cl.CustomComparison:
    """The matching model's old-ID (CMND) levels, knowing how rare a shared old ID is.

    Two records carrying one 9-digit old ID is evidence as a shared 12-digit ID is, and random
    sampling draws such a pair as seldom (``shared_share``: see ``personal_id``).
    """
    return model.id_comparison("old_id", "cmnd9", model.ONE_OLD_DIGIT_OFF, shared_share)


def shared_id_share(con: duckdb.DuckDBPyConnection, column: str = "pid12") -> float:
    """The share of record pairs of ``records_f`` holding one ID (at least 1e-12).

    ``column`` is ``pid12`` (the 12-digit personal ID) or ``cmnd9`` (the old 9-digit ID).
    """
    row = con.execute(f"""
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM records_f
                WHERE {column} IS NOT NULL GROUP BY {column})),
               (SELECT count(*) FROM records_f)
    """).fetchall()[0]
    shared, records = float(row[0] or 0), float(row[1] or 0)
    return max(shared / max(records * (records - 1) / 2, 1.0), 1e-12)


def _place(other_birth_place_share: float, moved_share: float) -> cl.CustomComparison:
    """The levels of ``PLACE``, the fixed m given."""
    return cl.CustomComparison(
        output_column_name="place",
        comparison_levels=[
            cll.CustomLevel(
                "(birth_place_l IS NULL OR birth_place_r IS NULL) "
                "AND (home_province_l IS NULL OR home_province_r IS NULL)"
            ).configure(is_null_level=True),
            cll.CustomLevel(
                "birth_place_l = birth_place_r AND home_province_l = home_province_r",
                "born and living in one province",
            ),
            cll.CustomLevel("birth_place_l = birth_place_r", "born in one province"),
            cll.CustomLevel(
                "birth_place_l IS NOT NULL AND birth_place_r IS NOT NULL", "born in two provinces"
            ).configure(m_probability=other_birth_place_share, fix_m_probability=True),
            cll.CustomLevel("home_province_l = home_province_r", "living in one province"),
            cll.ElseLevel().configure(m_probability=moved_share, fix_m_probability=True),
        ],
    )


PLACE = _place(OTHER_BIRTH_PLACE_SHARE, MOVED_SHARE)
"""Province of birth and province of residence, in one comparison: most people live where they
were born, so the two agreeing are hardly more telling than one (as separate comparisons they
would be counted twice and make namesakes of one province look like one person)."""

_PREFIXES = re.compile(r"^(tinh|thanh pho|tp\.?)\s+")


def province_key(text: str) -> str:
    """A province name as written in an address, reduced for look-up."""
    key = strip_diacritics(text).lower().replace("đ", "d").strip(" .")
    key = re.sub(r"\s+", " ", key.replace("–", "-"))
    return _PREFIXES.sub("", key).replace(" - ", "-")


def _province_names() -> dict[str, str]:
    """Every province name of either list → its code in the 34-province list."""
    names: dict[str, str] = {}
    for catalogue in (PROVINCES_63, PROVINCES_34):
        for code, unit in catalogue.items():
            names[province_key(unit.name)] = successor(code)
    names["thua thien hue"] = successor("46")
    return names


def province_codes(written: list[str]) -> list[str | None]:
    """The 34-province code of each province name as written in an address (None: unknown)."""
    names = _province_names()
    return [names.get(province_key(text)) for text in written]


_PUNCTUATION = re.compile(r"[,.;:/\\()\[\]\-–—_]+")
_COUNTRY = ("viet nam", "vietnam", "vn")
ALIASES = {"hcm": "79", "tphcm": "79", "sai gon": "79", "hn": "01", "tphn": "01"}
"""Short forms of a province seen at the end of addresses (TP.HCM, Sài Gòn, HN), by their
code in the 63-province list."""


def _words(text: str) -> str:
    """Text reduced to lower-case words without diacritics or punctuation."""
    flat = strip_diacritics(text).lower().replace("đ", "d")
    return " ".join(_PUNCTUATION.sub(" ", flat).split())


def address_province_codes(addresses: list[str]) -> list[str | None]:
    """The 34-province code of the province each address ends with (None: none found).

    Addresses are written in many styles: parts separated by commas, hyphens or nothing, the
    province's full or short name (Tỉnh, TP., TP.HCM, Sài Gòn), a country at the end. The
    province is the longest run of last words (after a country name) that names one.
    """
    names = {_words(name): code for name, code in _province_names().items()}
    names.update({alias: successor(code) for alias, code in ALIASES.items()})
    longest = max(len(name.split()) for name in names)
    found: list[str | None] = []
    for address in addresses:
        words = _words(address).split()
        for country in _COUNTRY:
            size = len(country.split())
            if words[-size:] == country.split():
                words = words[:-size]
                break
        code = None
        for size in range(min(longest, len(words)), 0, -1):
            code = names.get(" ".join(words[-size:]))
            if code is not None:
                break
        found.append(code)
    return found


def add_features(con: duckdb.DuckDBPyConnection) -> None:
    """Give ``records_f`` (from ``features.load_records``) the dedupe-only columns."""
    addresses = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT address FROM records_in WHERE address IS NOT NULL"
        ).fetchall()
    ]
    codes = address_province_codes(addresses)
    con.register("home_map_arrow", pa.table({"address": addresses, "home_province": codes}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE records_f AS
        SELECT f.*,
               coalesce(x.birth_province, left(x.pid12, 3)) AS birth_place,
               h.home_province
        FROM records_f f
        JOIN records_x x USING (unique_id)
        JOIN records_in i ON i.record_id = f.unique_id
        LEFT JOIN home_map_arrow h ON h.address = i.address
        ORDER BY x._row
    """)
    con.unregister("home_map_arrow")


@dataclass(frozen=True)
class Shares:
    """The m of the levels EM cannot learn (disagreements rare between one person's records)."""

    two_edits: float = TWO_EDITS_SHARE
    other_day: float = OTHER_DAY_SHARE
    other_birth_place: float = OTHER_BIRTH_PLACE_SHARE
    moved: float = MOVED_SHARE


PRIOR_PAIRS = 100.0
"""How many pairs' worth of weight the set shares (``Shares()``) carry in ``learned_shares``:
a batch with a few hundred pairs of one person's records mostly speaks for itself, a small
one keeps the set values. A prior strength, from first principles, not from a run."""

_FULL = (
    "a.dob_precision = 'day' AND NOT (a.dob_month = 1 AND a.dob_day = 1) "
    "AND b.dob_precision = 'day' AND NOT (b.dob_month = 1 AND b.dob_day = 1)"
)


def learned_shares(con: duckdb.DuckDBPyConnection) -> Shares:
    """The shares of ``Shares`` learned from the records being deduplicated.

    Records of two BHXH codes that hold one 12-digit personal ID, or one old 9-digit ID, are one
    person's (the ID is certain evidence, and says nothing about the name, the birth date or the
    provinces): how
    often their names are two edits apart, their birth dates another day of the same year,
    their declared birth provinces or their provinces of residence different, is how often one
    person's records disagree so. Each share is the posterior mean with the set value as prior
    worth ``PRIOR_PAIRS`` pairs, so a batch whose records disagree more than the set values
    (other typing habits, people who move) weighs those disagreements less, and one whose
    records never do weighs them more.
    """
    prior = Shares()
    row = con.execute(f"""
        WITH linked AS (
            SELECT a.unique_id AS ua, b.unique_id AS ub FROM records_f a JOIN records_f b
              ON a.pid12 = b.pid12 AND a.unique_id < b.unique_id AND a.bhxh_code <> b.bhxh_code
            UNION
            SELECT a.unique_id, b.unique_id FROM records_f a JOIN records_f b
              ON a.cmnd9 = b.cmnd9 AND a.unique_id < b.unique_id AND a.bhxh_code <> b.bhxh_code
        ),
        pairs AS (
            SELECT a.name_base AS na, b.name_base AS nb, a.name_flat AS fa, b.name_flat AS fb,
                   a.family = b.family AND a.given = b.given AS same_fg,
                   a.middle <> b.middle AND (a.middle = '' OR b.middle = ''
                       OR contains(a.middle, b.middle) OR contains(b.middle, a.middle))
                       AS middle_missing,
                   a.dob_year AS ya, b.dob_year AS yb,
                   a.dob_year = b.dob_year AND {_FULL}
                       AND NOT (a.dob_month = b.dob_month AND a.dob_day = b.dob_day)
                       AND NOT (a.dob_month = b.dob_day AND a.dob_day = b.dob_month)
                       AS other_day,
                   a.birth_province AS pa, b.birth_province AS pb,
                   a.home_province AS ha, b.home_province AS hb
            FROM linked
            JOIN records_f a ON a.unique_id = linked.ua
            JOIN records_f b ON b.unique_id = linked.ub
        )
        SELECT count(*) FILTER (WHERE na IS NOT NULL AND nb IS NOT NULL),
               count(*) FILTER (WHERE na IS NOT NULL AND nb IS NOT NULL AND fa <> fb
                   AND NOT (same_fg AND middle_missing)
                   AND damerau_levenshtein(na, nb) > 1
                   AND (damerau_levenshtein(na, nb) <= 2 OR same_fg)),
               count(*) FILTER (WHERE ya IS NOT NULL AND yb IS NOT NULL),
               count(*) FILTER (WHERE ya IS NOT NULL AND yb IS NOT NULL AND other_day),
               count(*) FILTER (WHERE pa IS NOT NULL AND pb IS NOT NULL),
               count(*) FILTER (WHERE pa IS NOT NULL AND pb IS NOT NULL AND pa <> pb),
               count(*) FILTER (WHERE ha IS NOT NULL AND hb IS NOT NULL),
               count(*) FILTER (WHERE ha IS NOT NULL AND hb IS NOT NULL AND ha <> hb)
        FROM pairs
    """).fetchall()[0]
    counts = [int(value or 0) for value in row]

    def share(known: int, disagree: int, set_value: float) -> float:
        return (disagree + PRIOR_PAIRS * set_value) / (known + PRIOR_PAIRS)

    return Shares(
        two_edits=share(counts[0], counts[1], prior.two_edits),
        other_day=share(counts[2], counts[3], prior.other_day),
        other_birth_place=share(counts[4], counts[5], prior.other_birth_place),
        moved=share(counts[6], counts[7], prior.moved),
    )


def settings(
    shared_share: float, shared_old_share: float = 1e-12, shares: Shares | None = None
) -> SettingsCreator:
    """The dedupe model before training (``shared_share``: see ``personal_id``;
    ``shared_old_share``: the same for the old ID, see ``old_id``; ``shares``: the m of the
    levels EM cannot learn, ``learned_shares``, by default the set values)."""
    shares = shares or Shares()
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _name(shares.two_edits),
            _birth_date(shares.other_day),
            personal_id(shared_share),
            old_id(shared_old_share),
            model.GENDER,
            _place(shares.other_birth_place, shares.moved),
            model.ADDRESS,
        ],
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in BLOCKING_RULES],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
