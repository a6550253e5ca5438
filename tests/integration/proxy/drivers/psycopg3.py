"""psycopg 3 through a --shared-tx URL: two connections and more at once."""
import sys
import threading
import time

import psycopg

url = sys.argv[1]


def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)


a = psycopg.connect(url, autocommit=True)
b = psycopg.connect(url, autocommit=True)
a.execute("create table pt (id int primary key, v text)")
# Server-side prepared statements on both connections (prepare_threshold).
for i in range(6):
    a.execute("insert into pt values (%s, %s)", (i, "a"), prepare=True)
    check(b.execute("select count(*) from pt where id >= %s", (0,), prepare=True).fetchone()[0] == i + 1, "b sees a")
# An error in a (psycopg then sends DEALLOCATE ALL): b's statements live on.
try:
    a.execute("insert into pt values (1, 'dup')")
    check(False, "duplicate")
except psycopg.errors.UniqueViolation:
    pass
check(b.execute("select count(*) from pt where id >= %s", (0,), prepare=True).fetchone()[0] == 6, "b after a's error")
# b waits while a holds a transaction, then gets in.
got = {}
with a.transaction():
    a.execute("insert into pt values (100, 'tx')")
    th = threading.Thread(target=lambda: got.setdefault("n", b.execute("select count(*) from pt").fetchone()[0]))
    th.start()
    time.sleep(0.3)
    check("n" not in got, "b waited")
th.join()
check(got["n"] == 7, "b after a's commit")
# Nested transactions are savepoints of a's own.
with a.transaction():
    a.execute("insert into pt values (200, 'x')")
    try:
        with a.transaction():
            a.execute("insert into pt values (200, 'dup')")
    except psycopg.errors.UniqueViolation:
        pass
check(b.execute("select count(*) from pt where id = 200").fetchone()[0] == 1, "nested")
# A connection that is not in autocommit, rolled back.
c = psycopg.connect(url)
c.execute("insert into pt values (300, 'c')")
check(c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS, "c in a transaction")
c.rollback()
c.close()
check(b.execute("select count(*) from pt where id = 300").fetchone()[0] == 0, "c rolled back")
# COPY in and out, and a pipeline.
with b.cursor() as cur:
    with cur.copy("copy pt (id, v) from stdin") as cp:
        for i in range(1000, 1050):
            cp.write_row((i, "copy"))
with b.cursor() as cur:
    with cur.copy("copy (select id from pt where v = 'copy' order by id limit 2) to stdout") as cp:
        check([bytes(r) for r in cp] == [b"1000\n", b"1001\n"], "copy out")
with b.pipeline():
    r1 = b.execute("select 1")
    r2 = b.execute("select %s::text", ("two",))
check((r1.fetchone()[0], r2.fetchone()[0]) == (1, "two"), "pipeline")
# A server-side cursor in a transaction.
with a.transaction():
    with a.cursor(name="sc") as cur:
        cur.execute("select id from pt order by id")
        check(cur.fetchone() == (0,), "server cursor")
# Cancel.
threading.Thread(target=lambda: (time.sleep(0.5), a.cancel())).start()
try:
    a.execute("select pg_sleep(30)")
    check(False, "cancel")
except psycopg.errors.QueryCanceled:
    pass
check(a.execute("select 2").fetchone()[0] == 2, "a after cancel")
b.execute("ROLLBACK TEST 'psycopg'")
try:
    a.execute("select * from pt")
    check(False, "rolled back")
except psycopg.errors.UndefinedTable:
    pass
a.close()
b.close()
print("ok")
