// Run: GO111MODULE=off GOPATH=/usr/share/gocode go test ./examples/go
// (Debian: golang-github-lib-pq-dev, golang-github-jackc-pgx-v4-dev; PGTMP_FLAGS=-t for TCP)
package example

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v4"
	_ "github.com/lib/pq"
)

var databaseURL string

// TestMain starts one throwaway PostgreSQL for the package's tests and stops it after them.
func TestMain(m *testing.M) {
	out, err := exec.Command("pgtmp", strings.Fields(os.Getenv("PGTMP_FLAGS"))...).Output()
	if err != nil {
		panic("pgtmp: " + err.Error())
	}
	databaseURL = strings.TrimSpace(string(out))
	code := m.Run()
	exec.Command("pgtmp", "stop", databaseURL).Run()
	os.Exit(code)
}

func TestLibPq(t *testing.T) {
	db, err := sql.Open("postgres", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRow("select current_database()").Scan(&name); err != nil || name != "test" {
		t.Fatalf("lib/pq: %q, %v", name, err)
	}
}

func TestPgx(t *testing.T) {
	conn, err := pgx.Connect(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var name string
	if err := conn.QueryRow(context.Background(), "select current_database()").Scan(&name); err != nil || name != "test" {
		t.Fatalf("pgx: %q, %v", name, err)
	}
}
