"""Benchmark of the national platforms over real HTTP: portal dossiers pulled and their statuses
sent back, EMC usage events, and the NDXP relay's cost on a partner call.

    PYTHONPATH=$PWD python bench/platforms.py --database-url sqlite:////tmp/p.sqlite3 --dossiers 300
    PYTHONPATH=$PWD python bench/platforms.py --database-url postgresql+psycopg://… --dossiers 300

The database must be empty (a fresh file or database); it is migrated first. The register is
the tests' ``seed.household`` plus ``seed.insured_person``; every portal dossier is a one-time
SI claim of the same claimant (the submission does the same work for each).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import append_section
from nidb.api.app import create_app as create_nidb
from nidb.connectors.platforms import EmcClient, NdxpClient, PortalClient
from nidb.exchange.ndxp import PROVIDER_CODE, register
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.services.measurement import send_usage
from nidb.services.portal import sync
from nidb.sim.platforms import dvcqg, emc, ndxp
from nidb.sim.population import BackgroundServer
from nidb.store.db import ensure_schema, make_engine
from tests import seed

KEY = "bench"
MINISTRY = "VN/GOV/BLDTBXH/CSDL-ASXH"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    ensure_schema(engine)
    seed.household(engine)
    seed.insured_person(engine)
    ministry = SigningKey.generate()
    add_partner(
        engine, MINISTRY, "Bộ LĐTBXH", "molisa", ministry.public_b64, "bench", rate_limit=100_000
    )
    add_grant(engine, MINISTRY, "person.summary/v1", "GQCD", "a", "Nghị định 43/2021", "bench")
    n = args.dossiers
    with (
        BackgroundServer(dvcqg.create_app({"BHXH": KEY})) as portal_server,
        BackgroundServer(emc.create_app({"BHXH": KEY})) as emc_server,
        BackgroundServer(create_nidb(engine, SigningKey.generate()), lifespan="on") as nidb,
        BackgroundServer(ndxp.create_app({PROVIDER_CODE: KEY}, {MINISTRY: KEY})) as platform_srv,
    ):
        form = {"ground": "no_contribution_12_months", "bank_account": "0123456789"}
        with httpx.Client() as http:
            for _ in range(n):
                http.post(
                    f"{portal_server.url}/v1/citizen/dossiers",
                    json={
                        "procedure": "BHXH-MOTLAN",
                        "personal_id": seed.LEFT,
                        "full_name": "Phạm Văn Bình",
                        "form": form,
                    },
                ).raise_for_status()
        with PortalClient(portal_server.url, KEY) as portal:
            started = time.perf_counter()
            result = sync(engine, portal, settle=0)
            sync_s = time.perf_counter() - started
        assert len(result.opened) == n and result.statuses_sent == n, result
        with EmcClient(emc_server.url, KEY) as measure:
            started = time.perf_counter()
            sent = send_usage(engine, measure, settle=0)
            emc_s = time.perf_counter() - started
        assert sent.events == n and sent.stopped is None, sent
        with NdxpClient(platform_srv.url, KEY) as listing:
            register(listing, nidb.url)
        direct = ExchangeClient(nidb.url, MINISTRY, ministry)
        relayed = ExchangeClient(
            "unused",
            MINISTRY,
            ministry,
            http=httpx.Client(
                base_url=f"{platform_srv.url}/v1/gateway/{PROVIDER_CODE}",
                headers={"x-api-key": KEY},
            ),
        )
        timings = {}
        for name, client in (("direct", direct), ("through NDXP", relayed)):
            client.call("person.summary/v1", "GQCD", {"personal_id": seed.PID})  # warm up
            samples = []
            for _ in range(args.calls):
                started = time.perf_counter()
                reply = client.call("person.summary/v1", "GQCD", {"personal_id": seed.PID})
                samples.append(time.perf_counter() - started)
                assert reply.status == 200, reply.body
            timings[name] = (
                statistics.median(samples) * 1000,
                statistics.quantiles(samples, n=100)[98] * 1000,
            )
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {engine.dialect.name} | {n} "
        f"| {n / sync_s:.0f} | {n / emc_s:.0f} "
        f"| {timings['direct'][0]:.1f} / {timings['direct'][1]:.1f} "
        f"| {timings['through NDXP'][0]:.1f} / {timings['through NDXP'][1]:.1f} "
        f"| {os.getloadavg()[0]:.1f} | {platform.machine()}, {os.cpu_count()} cores |\n"
    )
    print(line)
    out = Path(__file__).parent / "results" / "platforms.md"
    append_section(
        out,
        "# National platforms over HTTP (bench/platforms.py)\n\n"
        "Portal: dossiers pulled, opened and acknowledged per second (`sync`: one GET, then per "
        "dossier the submission and one status POST). EMC: usage events per second in batches "
        "of 500. NDXP: person.summary/v1 median / p99 in ms, called directly and through the "
        "platform's relay (one process, every server on loopback).\n\n"
        "| when (UTC) | engine | dossiers | portal dossiers/s | EMC events/s "
        "| direct ms (median / p99) | through NDXP ms | load | machine |\n"
        "|---|---|---|---|---|---|---|---|---|\n",
        line,
    )
    print(f"appended to {out} (command: {' '.join(sys.argv)})")


if __name__ == "__main__":
    main()
