# pgtmp: `make run` prints a working URL, `make test` runs every check CI runs.

PREFIX  ?= /usr/local
CARGO   ?= cargo
BIN     := target/release/pgtmp
DEBUG   := target/debug/pgtmp
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

GENERATED := man/pgtmp.1 completions/pgtmp.bash completions/_pgtmp completions/pgtmp.fish

.PHONY: all build run deps deps-run test lint unit generate check-generated install install-pg_tmp uninstall \
        bench bench-quick check-macos clean

all: build

build:
	$(CARGO) build --release --locked

## Installs what the tests need: PostgreSQL when no server binaries are
## found, pgTAP and the client libraries of the compatibility suite (needs
## root or sudo).
deps:
	@.ci/install-deps

## Installs only what running pgtmp needs: PostgreSQL.
deps-run:
	@.ci/install-deps --run

## Prints the URL of a fresh throwaway database.
run: deps-run build
	@$(BIN)

## Every check: formatting, lints, docs, unit and integration tests against
## a real PostgreSQL, and the committed man page and completions being fresh.
test: deps lint check-generated unit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --no-deps --locked --quiet

unit:
	$(CARGO) test --locked

## Type-checks the code for macOS (no Apple SDK needed: nothing is linked).
## Not part of `test` until the platform layer compiles there
## (docs/platforms.md).
check-macos:
	rustup target list --installed | grep -qx x86_64-apple-darwin || rustup target add x86_64-apple-darwin
	$(CARGO) check --locked --all-targets --target x86_64-apple-darwin

generate:
	$(CARGO) build --locked --quiet
	$(DEBUG) man > man/pgtmp.1
	$(DEBUG) completions bash > completions/pgtmp.bash
	$(DEBUG) completions zsh > completions/_pgtmp
	$(DEBUG) completions fish > completions/pgtmp.fish

check-generated:
	$(CARGO) build --locked --quiet
	@stale=0; \
	for f in $(GENERATED); do \
	  case $$f in \
	    man/*) $(DEBUG) man > $$f.new ;; \
	    *.bash) $(DEBUG) completions bash > $$f.new ;; \
	    */_pgtmp) $(DEBUG) completions zsh > $$f.new ;; \
	    *.fish) $(DEBUG) completions fish > $$f.new ;; \
	  esac; \
	  if ! cmp -s $$f $$f.new; then echo "stale: $$f (run \`make generate\`)"; stale=1; fi; \
	  rm -f $$f.new; \
	done; exit $$stale

install: build
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BIN) $(BINDIR)/pgtmp
	install -m 0644 man/pgtmp.1 $(MANDIR)/pgtmp.1
	install -m 0644 completions/pgtmp.bash $(BASHDIR)/pgtmp
	install -m 0644 completions/_pgtmp $(ZSHDIR)/_pgtmp
	install -m 0644 completions/pgtmp.fish $(FISHDIR)/pgtmp.fish

## Also as `pg_tmp`, for scripts written for it (a link; not by default, since
## it would shadow an installed ephemeralpg).
install-pg_tmp: install
	ln -sf pgtmp $(BINDIR)/pg_tmp

uninstall:
	rm -f $(BINDIR)/pgtmp $(MANDIR)/pgtmp.1 $(BASHDIR)/pgtmp $(ZSHDIR)/_pgtmp $(FISHDIR)/pgtmp.fish
	if [ "$$(readlink $(BINDIR)/pg_tmp)" = pgtmp ]; then rm -f $(BINDIR)/pg_tmp; fi

## The benchmark (~3 minutes): Markdown on stdout, JSON and SVG in bench-results/.
bench: deps build
	PGTMP_BIN=$(BIN) $(CARGO) bench --locked --bench bench -- --out bench-results

## A few samples of every scenario, so the harness keeps working (CI).
bench-quick: deps build
	PGTMP_BIN=$(BIN) $(CARGO) bench --locked --bench bench -- --quick --out bench-results

clean:
	$(CARGO) clean
	rm -rf bench-results
