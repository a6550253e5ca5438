# Run: pytest -q examples/python_sqlalchemy.py   (pip install -r examples/requirements.txt; PGTMP_FLAGS=-t for TCP)
import os
import shlex
import subprocess

import pytest
import sqlalchemy


@pytest.fixture(scope="session")
def engine():
    """One throwaway PostgreSQL for the session; SQLAlchemy wants its driver named in the scheme."""
    url = subprocess.check_output(["pgtmp", *shlex.split(os.environ.get("PGTMP_FLAGS", ""))], text=True).strip()
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()
    subprocess.run(["pgtmp", "stop", url], check=True)


def test_gets_a_private_database(engine):
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("select current_database()")).scalar() == "test"
