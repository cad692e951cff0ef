"""``nidb demo``: a small synthetic province generated, imported and summarised end to end;
then a hospital's card checks and a death (demo_exchange), and an employer declaring, being
assessed and paying (demo_employer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from nidb.cli.demo_claims import ClaimsDemo, run_claims_demo
from nidb.cli.demo_employer import EmployerDemo, run_employer_demo
from nidb.cli.demo_exchange import ExchangeDemo, run_exchange_demo
from nidb.identity.match import MatchSummary, match_files
from nidb.identity.verify import VerifyReport
from nidb.ingest.loader import ImportReport, import_file

IMPORT_ORDER = (
    "employers",
    "registry",
    "records",
    "participation",
    "contributions",
    "cards",
    "benefits",
    "visits",
)


@dataclass
class DemoResult:
    """What the demo generated and loaded."""

    data_dir: Path
    generated: dict[str, int] = field(default_factory=dict)
    imports: list[ImportReport] = field(default_factory=list)
    generate_seconds: float = 0.0
    matching: MatchSummary | None = None
    verification: VerifyReport | None = None
    exchange: ExchangeDemo | None = None
    employer: EmployerDemo | None = None
    claims: ClaimsDemo | None = None


def run_demo(
    engine: Engine,
    data_dir: Path,
    people: int,
    seed: int,
    on_stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate ``people`` synthetic people into ``data_dir`` and import every file."""
    import time

    from nidb.sim.generate import generate

    result = DemoResult(data_dir=data_dir)
    if on_stage:
        on_stage(f"Sinh dữ liệu tổng hợp cho {people:,} người (seed {seed}) → {data_dir}")
    started = time.perf_counter()
    summary = generate(data_dir, people, seed)
    result.generate_seconds = time.perf_counter() - started
    result.generated = dict(summary.rows)
    for kind in IMPORT_ORDER:
        path = data_dir / f"{kind}.csv"
        if on_stage:
            on_stage(f"Nạp {path.name}")
        result.imports.append(import_file(engine, kind, path))
    result.verification = _verify(engine, data_dir / "registry.csv", on_stage)
    if on_stage:
        on_stage("Đối sánh hồ sơ với CSDL dân cư (matching records to the population registry)")
    result.matching = match_files(
        data_dir / "registry.csv", data_dir / "records.csv", data_dir / "matches.csv"
    )
    result.exchange = run_exchange_demo(engine, data_dir / "registry.csv", on_stage)
    result.employer = run_employer_demo(engine, data_dir, on_stage)
    result.claims = run_claims_demo(engine, data_dir, on_stage)
    return result


def _verify(engine: Engine, registry: Path, on_stage: Callable[[str], None] | None) -> VerifyReport:
    """Start the population-database stand-in over HTTP and verify the register against it."""
    from nidb.connectors.population import PopulationClient
    from nidb.identity.verify import verify_records
    from nidb.sim.population import BackgroundServer, create_app

    with BackgroundServer(create_app(registry)) as server:
        if on_stage:
            on_stage(
                f"Xác thực với CSDL dân cư giả lập tại {server.url} "
                "(verifying against the population-database stand-in)"
            )
        with PopulationClient(server.url) as client:
            return verify_records(engine, client, actor="demo")
