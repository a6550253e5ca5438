# Run: pytest -q examples/python_pytest.py   (pip install -r examples/requirements.txt; PGTMP_FLAGS=-t for TCP)
import os
import shlex
import subprocess

import psycopg
import pytest


@pytest.fixture(scope="session")
def database_url():
    """One throwaway PostgreSQL for the whole test session (put this in conftest.py)."""
    url = subprocess.check_output(["pgtmp", *shlex.split(os.environ.get("PGTMP_FLAGS", ""))], text=True).strip()
    yield url
    subprocess.run(["pgtmp", "stop", url], check=True)


@pytest.fixture
def db(database_url):
    with psycopg.connect(database_url) as conn:
        yield conn


def test_gets_a_private_database(db):
    assert db.execute("select current_database()").fetchone() == ("test",)
