"""The declaration path without HTTP: CPU and SQL statements per signed one-worker increase.

    python bench/employer_declarations_path.py --database-url URL [--declarations 600]
        [--code-root DIR]

Calls the API's handler (``nidb.api.employers._handle``: gate, declaration, reply signed) in
this process on ``--declarations`` envelopes signed beforehand, after 50 not measured, and
prints the process CPU (user + system, from the OS) and the statements executed per
declaration (counted at psycopg's cursor, so that statements SQLAlchemy runs and those
``nidb.store.direct`` runs on psycopg itself count alike, and the pool's pre-ping with them;
SQLite: SQLAlchemy's cursor executions). ``--code-root``: a tree whose ``nidb`` is imported instead (``git archive REV nidb |
tar -x -C DIR``), to compare revisions on the same machine minutes apart. PostgreSQL URLs get a
fresh database ``bench_path`` on the same server. Complements bench/employer_declarations.py,
whose CPU per declaration includes uvicorn, the middlewares and the pool.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if "--code-root" in sys.argv:  # its nidb first; this tree still gives the bench package
    sys.path.insert(0, sys.argv[sys.argv.index("--code-root") + 1])
sys.path.append(str(ROOT))

from bench.employer_declarations import _envelopes, _fresh_database, _seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--declarations", type=int, default=600)
    parser.add_argument("--code-root", default=None)
    args = parser.parse_args()
    import psycopg
    from sqlalchemy import event

    import nidb
    from nidb.api.employers import _declare, _handle
    from nidb.protocol.employers import DECLARATION_SERVICE
    from nidb.protocol.keys import SigningKey
    from nidb.store.db import make_engine

    url = args.database_url
    if url.startswith("postgresql"):
        url = _fresh_database(url, "bench_path")
    key = SigningKey.generate()
    warm = 50
    pids = _seed(url, args.declarations + warm, key.public_b64)
    raws = [json.dumps(e).encode() for e in _envelopes(pids, key)]
    engine = make_engine(url)
    statements = [0]

    if url.startswith("postgresql"):
        for name in ("execute", "executemany"):
            method = getattr(psycopg.Cursor, name)

            def counted(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
                statements[0] += 1
                return _method(*args, **kwargs)

            setattr(psycopg.Cursor, name, counted)
    else:

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*_: object) -> None:
            statements[0] += 1

    reply_key = SigningKey.generate()
    for raw in raws[:warm]:
        assert _handle(engine, reply_key, DECLARATION_SERVICE, raw, _declare, {}).status_code == 200
    statements[0] = 0
    cpu = time.process_time()
    for raw in raws[warm:]:
        assert _handle(engine, reply_key, DECLARATION_SERVICE, raw, _declare, {}).status_code == 200
    cpu = time.process_time() - cpu
    engine.dispose()
    n = args.declarations
    print(
        f"{Path(nidb.__file__).parent}: {statements[0] / n:.1f} statements and "
        f"{cpu * 1000 / n:.2f} ms of CPU per declaration ({n} declarations)"
    )


if __name__ == "__main__":
    main()
