"""scripts/backup.sh and scripts/restore.sh: back up the test database and media, restore them
into a fresh database and an empty media folder, and compare every table's row count (SQLite
always; PostgreSQL on the PostgreSQL run)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import database_url_for_subprocess

ROOT = Path(settings.BASE_DIR)


def run(script: str, *args: str, database_url: str, media: Path, tmp_path: Path):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(media),
            "GRIDGOV_VAR_DIR": str(tmp_path / "var"),
            "PYTHON": sys.executable,
        }
    )
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def source_counts() -> dict[str, int]:
    """Every table of the test database, counted by this process (not by the scripts)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def make_data(tmp_path: Path) -> Path:
    from incidents.tests.factories import build_city, make_incident

    city = build_city()
    for _ in range(3):
        make_incident(city)
    media = Path(settings.MEDIA_ROOT)
    (media / "incidents" / "2026").mkdir(parents=True)
    (media / "incidents" / "2026" / "photo.jpg").write_bytes(b"\xff\xd8 not really a jpeg " * 50)
    (media / "exports").mkdir()
    (media / "exports" / "report.xlsx").write_bytes(b"PK spreadsheet")
    return media


def sqlite_source(tmp_path: Path) -> tuple[str, dict[str, int], Path]:
    """The SQLite database to back up, its row counts and its media folder: the test database
    itself on the SQLite run; on the PostgreSQL run a SQLite file made here (the scripts do not
    depend on the schema)."""
    media = make_data(tmp_path)
    if connection.vendor == "sqlite":
        return database_url_for_subprocess(), source_counts(), media
    path = tmp_path / "source.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE incidents_incident (id INTEGER PRIMARY KEY, note TEXT)")
        conn.executemany("INSERT INTO accounts_user (name) VALUES (?)", [("张三",)] * 12)
        conn.executemany("INSERT INTO incidents_incident (note) VALUES (?)", [("垃圾",)] * 3)
    return f"sqlite:///{path}", {"accounts_user": 12, "incidents_incident": 3}, media


def backup_set(result, backups: Path) -> Path:
    assert result.returncode == 0, result.stdout + result.stderr
    sets = list(backups.iterdir())
    assert len(sets) == 1
    return sets[0]


def backed_up(tmp_path: Path, database_url: str, media: Path) -> Path:
    """Run backup.sh into tmp_path/backups; the one backup set it made."""
    backups = tmp_path / "backups"
    made = run("backup.sh", str(backups), database_url=database_url, media=media, tmp_path=tmp_path)
    return backup_set(made, backups)


def assert_restored_media(source: Path, restored: Path) -> None:
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(restored) for p in restored.rglob("*") if p.is_file())
    for name in files:
        assert (restored / name).read_bytes() == (source / name).read_bytes()


@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_restores_into_a_fresh_database_with_the_same_counts(tmp_path):
    source_url, expected, media = sqlite_source(tmp_path)
    assert expected["incidents_incident"] == 3 and expected["accounts_user"] >= 10

    bundle = backed_up(tmp_path, source_url, media)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["engine"] == "sqlite3"
    assert manifest["tables"] == expected
    assert manifest["media"]["files"] == 2
    assert set(manifest["files"]) == {"db.sqlite3", "media.tar.gz"}

    restored_db = tmp_path / "fresh" / "restored.sqlite3"
    restored_media = tmp_path / "fresh" / "media"
    restored = run(
        "restore.sh",
        str(bundle),
        database_url=f"sqlite:///{restored_db}",
        media=restored_media,
        tmp_path=tmp_path,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "verify: OK" in restored.stdout
    with sqlite3.connect(restored_db) as conn:
        for table, count in expected.items():
            got = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            assert got == count, table
    assert_restored_media(media, restored_media)

    # A second restore into the same (now full) database is refused, nothing changed.
    again = run(
        "restore.sh",
        str(bundle),
        database_url=f"sqlite:///{restored_db}",
        media=tmp_path / "other-media",
        tmp_path=tmp_path,
    )
    assert again.returncode != 0 and "fresh database" in again.stderr


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path):
    source_url, _counts, media = sqlite_source(tmp_path)
    bundle = backed_up(tmp_path, source_url, media)
    with open(bundle / "db.sqlite3", "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage\x00")
    target = tmp_path / "fresh" / "restored.sqlite3"
    refused = run(
        "restore.sh",
        str(bundle),
        database_url=f"sqlite:///{target}",
        media=tmp_path / "fresh" / "media",
        tmp_path=tmp_path,
    )
    assert refused.returncode != 0
    assert "checksum" in refused.stderr
    assert not target.exists() and not (tmp_path / "fresh" / "media").exists()


def _pg_url(params: dict, name: str) -> str:
    user = quote(params.get("USER") or "", safe="")
    password = quote(params.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "localhost"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{name}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_backup_restores_into_a_fresh_database_with_the_same_counts(tmp_path):
    import psycopg

    assert connection.vendor == "postgresql"
    media = make_data(tmp_path)
    expected = source_counts()
    assert expected["incidents_incident"] == 3

    bundle = backed_up(tmp_path, database_url_for_subprocess(), media)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["engine"] == "postgresql"
    assert manifest["tables"] == expected
    assert set(manifest["files"]) == {"db.dump", "media.tar.gz"}

    params = connection.settings_dict
    fresh = f"gridgov_restore_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )
    try:
        restored_media = tmp_path / "fresh-media"
        restored = run(
            "restore.sh",
            str(bundle),
            database_url=_pg_url(params, fresh),
            media=restored_media,
            tmp_path=tmp_path,
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "verify: OK" in restored.stdout
        with psycopg.connect(
            host=params.get("HOST") or None,
            port=params.get("PORT") or None,
            user=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            dbname=fresh,
        ) as conn:
            for table, count in expected.items():
                got = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                assert got == count, table
        assert_restored_media(media, restored_media)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        admin.close()
