"""Backup and restore of the database and the media files (scripts/backup.sh, restore.sh).

    backup_tool.py backup [DIRECTORY]    write a backup set (default: $BACKUP_DIR or var/backups)
    backup_tool.py restore SET_DIRECTORY restore a set into a fresh database and media folder
    backup_tool.py verify SET_DIRECTORY  compare the configured database with a set's manifest

The database and media folder are the ones the settings name (DATABASE_URL, MEDIA_ROOT), like
the application itself. A backup set is a directory with:

- ``db.dump`` (PostgreSQL, ``pg_dump -Fc``) or ``db.sqlite3`` (SQLite, the online backup API);
- ``media.tar.gz`` (everything under MEDIA_ROOT);
- ``manifest.json``: the engine, the time, the row count of every table *as dumped* and the
  SHA-256 and size of each file.

On PostgreSQL the counts and the dump come from one snapshot (``pg_export_snapshot`` shared
with ``pg_dump --snapshot``), so they agree even while the portal keeps writing. A restore
refuses a database that already has tables or a media folder that is not empty, checks the
files against the manifest before touching anything, and finishes by counting every table of
the restored database against the manifest (exit status 1 on any difference).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # runs pg_dump / pg_restore with argument lists
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.conf import settings

    return settings


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: $PG_BIN, then PATH, then the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BIN"):
        return str(Path(os.environ["PG_BIN"]) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    sys.exit(f"{name} not found: install the PostgreSQL client or set PG_BIN")


def _pg_env(db: dict, name: str | None = None) -> dict[str, str]:
    """libpq environment for the configured database (no password on a command line)."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", name or db.get("NAME")),
    ):
        if value:
            env[key] = str(value)
    return env


def _pg_connect(db: dict, name: str | None = None, **kwargs):
    import psycopg

    return psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=name or db["NAME"],
        **kwargs,
    )


PG_TABLES = (
    "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
)
SQLITE_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
)


def _count_pg(cursor) -> dict[str, int]:
    cursor.execute(PG_TABLES)
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:  # names come from the catalogue, quoted by quote_ident
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  # nosec B608
        counts[table.removeprefix("public.")] = cursor.fetchone()[0]
    return counts


def _count_sqlite(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [row[0] for row in conn.execute(SQLITE_TABLES)]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608  # nosec B608
            for table in tables
        }


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


# --- backup ---------------------------------------------------------------------------------------


def backup(target: Path) -> Path:
    settings = _django()
    db = settings.DATABASES["default"]
    media_root = Path(settings.MEDIA_ROOT)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = target / f"gridgov-{stamp}"
    out.mkdir(parents=True, exist_ok=False)
    os.chmod(out, 0o700)  # personal data inside: the operator's eyes only
    engine = db["ENGINE"].rsplit(".", 1)[-1]

    if engine == "sqlite3":
        dump = out / "db.sqlite3"
        with sqlite3.connect(str(db["NAME"])) as source, sqlite3.connect(dump) as copy:
            source.backup(copy)
        counts = _count_sqlite(dump)
    elif engine == "postgresql":
        dump = out / "db.dump"
        # One snapshot for the counts and the dump.
        with _pg_connect(db, autocommit=True) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            with conn.cursor() as cursor:
                counts = _count_pg(cursor)
            command = [_pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges"]
            command += ["--snapshot", snapshot, "-f", str(dump)]
            subprocess.run(command, env=_pg_env(db), check=True)  # noqa: S603  # nosec B603
            conn.execute("COMMIT")
    else:
        sys.exit(f"backup: unsupported database engine {db['ENGINE']}")

    archive = out / MEDIA_ARCHIVE
    media = _media_files(media_root)
    with tarfile.open(archive, "w:gz") as tar:
        for path in media:
            tar.add(path, arcname=str(path.relative_to(media_root)))

    manifest = {
        "format": 1,
        "created_at": datetime.now(UTC).isoformat(),
        "engine": engine,
        "tables": counts,
        "media": {"files": len(media), "bytes": sum(p.stat().st_size for p in media)},
        "files": {
            path.name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for path in (dump, archive)
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    rows = sum(counts.values())
    print(f"backup: {out} ({engine}, {len(counts)} tables, {rows} rows, {len(media)} media files)")
    return out


# --- restore and verify --------------------------------------------------------------------------


def _load_manifest(source: Path) -> dict:
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            sys.exit(f"restore: {name} is missing from {source}")
        if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            sys.exit(f"restore: {name} does not match its checksum in the manifest")
    return manifest


def _current_counts(settings) -> dict[str, int]:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return _count_sqlite(Path(db["NAME"]))
    with _pg_connect(db) as conn, conn.cursor() as cursor:
        return _count_pg(cursor)


def verify(source: Path, manifest: dict | None = None) -> bool:
    settings = _django()
    manifest = manifest or json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    counts = _current_counts(settings)
    expected = manifest["tables"]
    differences = {
        table: (expected.get(table), counts.get(table))
        for table in sorted(set(expected) | set(counts))
        if expected.get(table) != counts.get(table)
    }
    media = _media_files(Path(settings.MEDIA_ROOT))
    media_ok = len(media) == manifest["media"]["files"] and (
        sum(p.stat().st_size for p in media) == manifest["media"]["bytes"]
    )
    for table, (want, have) in differences.items():
        print(f"verify: {table}: manifest {want}, database {have}")
    if not media_ok:
        print(f"verify: media: manifest {manifest['media']}, restored {len(media)} files")
    ok = not differences and media_ok
    rows = sum(counts.values())
    print(
        f"verify: {'OK' if ok else 'MISMATCH'}: {len(counts)} tables, {rows} rows, "
        f"{len(media)} media files"
    )
    return ok


def restore(source: Path) -> bool:
    manifest = _load_manifest(source)  # checksums first: nothing is touched on a bad set
    settings = _django()
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine != manifest["engine"]:
        sys.exit(f"restore: the set is {manifest['engine']}, the configured database {engine}")
    media_root = Path(settings.MEDIA_ROOT)
    if _media_files(media_root):
        sys.exit(f"restore: the media folder {media_root} is not empty")

    if engine == "sqlite3":
        target = Path(db["NAME"])
        if target.exists() and target.stat().st_size > 0:
            sys.exit(f"restore: {target} exists; restore into a fresh database")
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source / "db.sqlite3") as dump, sqlite3.connect(target) as copy:
            dump.backup(copy)
    else:
        name = db["NAME"]
        with _pg_connect(db, "postgres", autocommit=True) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                from psycopg import sql

                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with _pg_connect(db) as conn:
            tables = conn.execute(PG_TABLES).fetchall()
        if tables:
            sys.exit(f"restore: database {name} already has {len(tables)} tables; use a fresh one")
        command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        command += ["--single-transaction", "-d", name, str(source / "db.dump")]
        subprocess.run(command, env=_pg_env(db), check=True)  # noqa: S603  # nosec B603

    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_ARCHIVE, "r:gz") as tar:
        tar.extractall(media_root, filter="data")  # no absolute paths, links or devices
    print(f"restore: {source} -> {engine} database {db['NAME']}, media {media_root}")
    return verify(source, manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup")
    make.add_argument("directory", nargs="?", default=os.environ.get("BACKUP_DIR", ""))
    for name in ("restore", "verify"):
        sub.add_parser(name).add_argument("set_directory")
    args = parser.parse_args(argv)
    if args.command == "backup":
        directory = Path(args.directory) if args.directory else None
        if directory is None:
            directory = Path(_django().VAR_DIR) / "backups"
        backup(directory)
        return 0
    source = Path(args.set_directory)
    ok = restore(source) if args.command == "restore" else verify(source)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
