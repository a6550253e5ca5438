# Run: cd examples/alembic && pytest -q test_app.py   (pip install -r ../requirements.txt)
# Alembic's migrations run once into a template (until a file under
# migrations/ changes); each test starts from the migrated database, put
# back with `pgtmp reset` while the URL stays the same (an application
# server started once with DATABASE_URL keeps working).
import os
import shlex
import subprocess

import psycopg
import pytest


@pytest.fixture(scope="session")
def database_url():
    flags = shlex.split(os.environ.get("PGTMP_FLAGS", ""))
    setup = ["--setup", "alembic upgrade head", "--key", "alembic.ini", "--key", "migrations"]
    url = subprocess.check_output(["pgtmp", *setup, *flags], text=True).strip()
    yield url
    subprocess.run(["pgtmp", "stop", url], check=True)


@pytest.fixture
def db(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
    subprocess.run(["pgtmp", "reset", database_url], check=True)


def test_starts_migrated(db):
    assert db.execute("select count(*) from users").fetchone() == (2,)
    db.execute("delete from posts; delete from users")


def test_starts_migrated_again(db):
    assert db.execute("select count(*) from users").fetchone() == (2,)
