"""PostgreSQL registers for tests: a database cloned from the migrated template, emptied and
reused by the next test instead of dropped.

``CREATE DATABASE … TEMPLATE`` copies the whole database (11 MB, ~1,000 files: the system
catalogues and the register's empty tables) and forces two checkpoints; with the drop it cost
0.3–0.6 s of the server's CPU per test on a loaded 2-core machine, for ~1,000 PostgreSQL test
items. Emptying the few tables a test wrote costs a tenth of that.

A database goes back to the pool only if, once emptied, it is the template again: every table
empty, every sequence unread, and the same catalogue (schemas, tables and columns, constraints,
indexes, triggers and their enabled state, functions, types, extensions, the database's
settings, large objects and the ``alembic_version`` row). A test that migrated, downgraded,
restored, created or altered anything gets its database dropped and the next test a fresh
clone, as before. Sessions a test left open are ended first, as ``DROP … WITH (FORCE)`` did.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

_counter = itertools.count()

FINGERPRINT = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT 'schema ' || nspname AS item FROM pg_namespace
   WHERE nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  UNION ALL
  SELECT format('rel %s.%s %s %s %s %s %s', n.nspname, c.relname, c.relkind, c.relpersistence,
                c.relrowsecurity, c.relowner::regrole, c.relacl)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT format('col %s %s %s %s %s %s', a.attrelid::regclass, a.attnum, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace,
                                                 'information_schema'::regnamespace)
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT format('trigger %s %s', pg_get_triggerdef(oid), tgenabled) FROM pg_trigger
   WHERE NOT tgisinternal
  UNION ALL
  SELECT format('function %s %s', p.oid::regprocedure, md5(pg_get_functiondef(p.oid)))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind <> 'a'
  UNION ALL
  SELECT format('type %s %s', t.oid::regtype, t.typtype) FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\\_%temp\\_%'
  UNION ALL
  SELECT format('enum %s %s %s', enumtypid::regtype, enumsortorder, enumlabel) FROM pg_enum
  UNION ALL
  SELECT format('extension %s %s', extname, extversion) FROM pg_extension
  UNION ALL
  SELECT format('setting %s %s', setrole, setconfig) FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata
  UNION ALL
  SELECT format('rule %s %s', rulename, definition) FROM pg_rules
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('policy %s %s', tablename, policyname) FROM pg_policies
  UNION ALL
  SELECT 'alembic ' || version_num FROM alembic_version
) AS catalogue
"""
"""One hash of what a migrated register is made of, besides its rows."""

_USER_TABLES = """
SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'alembic_version'
"""
_USED_SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences WHERE last_value IS NOT NULL
"""


def _fingerprint(conn: Connection) -> str:
    return str(conn.execute(text(FINGERPRINT)).scalar_one())


@dataclass
class PostgresRegisters:
    """Test databases on one server, cloned from ``template`` and reused once emptied."""

    admin_url: str
    template: str
    strategy: str = ""
    fingerprint: str = ""
    spare: list[str] = field(default_factory=list)
    reused: int = 0
    cloned: int = 0

    def __post_init__(self) -> None:
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with self.admin.connect() as conn:
            # FILE_COPY copies the template's files (the private cluster runs with fsync off):
            # about half the time of PostgreSQL 15's default, WAL_LOG, which logs every page
            if conn.dialect.server_version_info >= (15,):
                self.strategy = " STRATEGY FILE_COPY"
        with self._engine(self.template).connect() as conn:
            self.fingerprint = _fingerprint(conn)

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(False)

    def _engine(self, name: str) -> Engine:
        return create_engine(self.url(name), poolclass=NullPool)

    def take(self) -> str:
        """An empty, migrated database of the test's own."""
        if self.spare:
            self.reused += 1
            return self.spare.pop()
        name = f"nidb_t{os.getpid()}_{next(_counter)}"
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {self.template}{self.strategy}"))
        self.cloned += 1
        return name

    def give_back(self, name: str) -> None:
        """Empty the database for the next test, or drop it if it is no longer the template."""
        with self.admin.connect() as conn:
            # sessions the test left open (a server's pool, a killed command's) end first
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        try:
            clean = self._empty(name)
        except Exception:
            clean = False
        if clean:
            self.spare.append(name)
            return
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def _empty(self, name: str) -> bool:
        engine = self._engine(name)
        try:
            with engine.begin() as conn:
                # the register's append-only triggers refuse TRUNCATE: not fired in replica role
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                tables = conn.execute(text(_USER_TABLES)).scalars().all()
                written = (
                    conn.execute(
                        text(
                            " UNION ALL ".join(
                                f"SELECT '{table}' WHERE EXISTS (SELECT FROM {table})"
                                for table in tables
                            )
                        )
                    )
                    .scalars()
                    .all()
                    if tables
                    else []
                )
                if written:
                    conn.execute(text(f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE"))
                for sequence in conn.execute(text(_USED_SEQUENCES)).scalars().all():
                    conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
                return _fingerprint(conn) == self.fingerprint
        finally:
            engine.dispose()

    def close(self) -> None:
        """Drop the spare databases (the private cluster goes anyway; a shared server stays)."""
        with self.admin.connect() as conn:
            for name in self.spare:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.spare.clear()
        self.admin.dispose()
