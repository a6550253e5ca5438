package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
	"github.com/lib/pq"
)

func check(ok bool, what string, args ...interface{}) {
	if !ok {
		fmt.Fprintf(os.Stderr, "FAIL: "+what+"\n", args...)
		os.Exit(1)
	}
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	var qe *pq.Error
	if errors.As(err, &qe) {
		return string(qe.Code)
	}
	return fmt.Sprint(err)
}

func main() {
	url := os.Args[1]
	ctx := context.Background()
	// pgx: two connections, statement cache on both (same SQL, same names).
	a, err := pgx.Connect(ctx, url)
	must(err, "pgx connect a")
	b, err := pgx.Connect(ctx, url)
	must(err, "pgx connect b")
	_, err = a.Exec(ctx, "create table gt (id int primary key, v text)")
	must(err, "create")
	tx, err := a.Begin(ctx)
	must(err, "begin")
	for i := 0; i < 3; i++ {
		_, err = tx.Exec(ctx, "insert into gt values ($1, $2)", i, "a")
		must(err, "insert")
	}
	must(tx.Commit(ctx), "commit")
	var n int
	must(b.QueryRow(ctx, "select count(*) from gt where id >= $1", 0).Scan(&n), "count b")
	check(n == 3, "pgx commit visible: %d", n)
	must(a.QueryRow(ctx, "select count(*) from gt where id >= $1", 0).Scan(&n), "count a")
	tx, err = a.Begin(ctx)
	must(err, "begin 2")
	_, err = tx.Exec(ctx, "insert into gt values ($1, $2)", 9, "x")
	must(err, "insert 9")
	must(tx.Rollback(ctx), "rollback")
	must(b.QueryRow(ctx, "select count(*) from gt where id >= $1", 0).Scan(&n), "count b 2")
	check(n == 3, "pgx rollback: %d", n)
	_, err = a.Exec(ctx, "insert into gt values ($1, $2)", 1, "dup")
	check(code(err) == "23505", "pgx dup: %v", err)
	must(b.QueryRow(ctx, "select count(*) from gt where id >= $1", 0).Scan(&n), "b after a's error")
	// batch (pipelined Syncs)
	batch := &pgx.Batch{}
	batch.Queue("insert into gt values ($1, 'batch')", 100)
	batch.Queue("insert into gt values ($1, 'batch')", 101)
	batch.Queue("select count(*) from gt where v = 'batch'")
	br := a.SendBatch(ctx, batch)
	_, err = br.Exec()
	must(err, "batch 1")
	_, err = br.Exec()
	must(err, "batch 2")
	must(br.QueryRow().Scan(&n), "batch 3")
	check(n == 2, "batch count %d", n)
	must(br.Close(), "batch close")
	// copy
	rows := [][]interface{}{{200, "copy"}, {201, "copy"}}
	cn, err := b.CopyFrom(ctx, pgx.Identifier{"gt"}, []string{"id", "v"}, pgx.CopyFromRows(rows))
	must(err, "copy from")
	check(cn == 2, "copied %d", cn)
	// cancel through a context deadline
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = a.Exec(cctx, "select pg_sleep(20)")
	cancel()
	check(err != nil, "pgx cancel")
	// pgx closes a connection whose query was interrupted; reconnect.
	a.Close(ctx)
	a, err = pgx.Connect(ctx, url)
	must(err, "pgx reconnect")
	must(a.QueryRow(ctx, "select count(*) from gt").Scan(&n), "after cancel")
	check(n == 7, "count after cancel %d", n)

	// lib/pq: database/sql with two pooled connections.
	db, err := sql.Open("postgres", url)
	must(err, "pq open")
	db.SetMaxOpenConns(4)
	c1, err := db.Conn(ctx)
	must(err, "pq conn 1")
	c2, err := db.Conn(ctx)
	must(err, "pq conn 2")
	st1, err := c1.PrepareContext(ctx, "select count(*) from gt where id >= $1")
	must(err, "pq prepare 1")
	st2, err := c2.PrepareContext(ctx, "select $1::int * 2")
	must(err, "pq prepare 2")
	for i := 0; i < 3; i++ {
		must(st1.QueryRowContext(ctx, 0).Scan(&n), "pq st1")
		check(n == 7, "pq st1 %d", n)
		must(st2.QueryRowContext(ctx, 21).Scan(&n), "pq st2")
		check(n == 42, "pq st2 %d", n)
	}
	ptx, err := c1.BeginTx(ctx, nil)
	must(err, "pq begin")
	_, err = ptx.Exec("insert into gt values ($1, 'pq')", 300)
	must(err, "pq insert")
	must(ptx.Commit(), "pq commit")
	must(c2.QueryRowContext(ctx, "select count(*) from gt where v = 'pq'").Scan(&n), "pq count")
	check(n == 1, "pq commit visible %d", n)
	_, err = c1.ExecContext(ctx, "insert into gt values (300, 'dup')")
	check(code(err) == "23505", "pq dup %v", err)
	// COPY through lib/pq
	ctx2, err := c2.BeginTx(ctx, nil)
	must(err, "pq copy begin")
	cs, err := ctx2.Prepare(pq.CopyIn("gt", "id", "v"))
	must(err, "pq copyin")
	for i := 400; i < 405; i++ {
		_, err = cs.Exec(i, "pqcopy")
		must(err, "pq copy row")
	}
	_, err = cs.Exec()
	must(err, "pq copy flush")
	must(cs.Close(), "pq copy close")
	must(ctx2.Commit(), "pq copy commit")
	must(c1.QueryRowContext(ctx, "select count(*) from gt where v = 'pqcopy'").Scan(&n), "pq copy count")
	check(n == 5, "pq copy %d", n)
	// cancel through lib/pq
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = c1.ExecContext(qctx, "select pg_sleep(20)")
	qcancel()
	check(code(err) == "57014" || errors.Is(err, context.DeadlineExceeded), "pq cancel %v", err)
	_, err = b.Exec(ctx, "ROLLBACK TEST 'go'")
	must(err, "rollback test")
	_, err = b.Exec(ctx, "select * from gt")
	check(code(err) == "42P01", "rolled back: %v", err)
	c1.Close()
	c2.Close()
	db.Close()
	a.Close(ctx)
	b.Close(ctx)
	fmt.Println("ok")
}
