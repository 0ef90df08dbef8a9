# Makefile for the tenancy extension (PGXS)
#
#   make demo    install what is missing, build, install, start a throw-away
#                cluster and walk through what each kind of user sees
#   make test    the same set-up, then every test suite; ends with one line
#                "N passed, N failed" and fails when anything failed
#
# Both run as root on Debian 12 (they call apt-get for what is missing).
# The plain PGXS targets (all, install, installcheck) work as usual.

MODULE_big = tenancy
OBJS = \
	src/tenancy.o \
	src/identity.o \
	src/token.o \
	src/catalog.o \
	src/probe.o \
	src/rights.o \
	src/visibility.o \
	src/manage.o \
	src/triggers.o \
	src/protect.o \
	src/audit.o \
	src/migration.o \
	src/reporting.o \
	src/delegation.o \
	src/explain.o \
	src/planner.o \
	src/merge.o \
	src/session.o \
	src/directory.o \
	src/logging.o \
	src/uninstall.o \
	src/restore.o \
	src/ddl.o \
	src/distribute.o \
	src/citus_guard.o

EXTENSION = tenancy
DATA = tenancy--1.0.sql tenancy--1.0--1.1.sql tenancy--1.1--1.2.sql \
	tenancy--1.2--1.3.sql
PGFILEDESC = "tenancy - compartments walled off inside PostgreSQL"

# pg_regress topics, in the order a reader meets them (see sql/)
REGRESS = \
	catalog \
	identity \
	manage \
	entrypoints \
	protect \
	rights \
	cache \
	attacks \
	recheck \
	planner \
	pooling \
	temp_oracles \
	audit \
	audit_attacks \
	reporting \
	delegation \
	operator \
	derived \
	ddl_search_path \
	wall_rules \
	upgrade \
	migration \
	migration_attacks \
	explain_access \
	explain_agrees \
	old_catalog \
	extension_schema \
	directory \
	token

ISOLATION = \
	revoke_visibility \
	concurrent_grants \
	scope_changes \
	migration_approvals \
	migration_freeze \
	cache_scope \
	audit_order \
	migration_move \
	migration_snapshot \
	revoke_in_transaction \
	reporting_binding \
	complete_load \
	uniform_list \
	bitmap_recheck \
	rolled_back_rights \
	migration_grant \
	ddl_name_race \
	cache_snapshot \
	stale_writer \
	management_locks \
	state_by_compartment
ISOLATION_OPTS = --inputdir=test/isolation

# "make" alone builds the module, like every PGXS module: the first goal is
# always "all", never "deps" (which calls apt-get)
.DEFAULT_GOAL := all

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Without PGXS only deps, demo and test can run: they install it first.
all install installcheck uninstall clean:
	@echo "Makefile: PGXS not found: \"$(PG_CONFIG) --pgxs\" gave \"$(PGXS)\"." >&2
	@echo "Install postgresql-server-dev-15 (or run \"make demo\" or \"make test\" as root," >&2
	@echo "which install it), or pass PG_CONFIG=/path/to/pg_config." >&2
	@exit 1
endif

override CFLAGS += -Wall -Wmissing-prototypes -Wdeclaration-after-statement

# Debian packages the build, the demo and the tests need.
# The ODBC suite needs unixodbc (isql) and odbc-postgresql (psqlODBC), the
# TAP suites perl's prove and IPC::Run.
DEB_PACKAGES = postgresql-15 postgresql-server-dev-15 libpq-dev postgresql-contrib \
	gcc make libipc-run-perl perl pgbouncer unixodbc odbc-postgresql
# The node suite needs the commands node and npm: Debian's nodejs and npm
# packages unless they are already there (e.g. from NodeSource, whose nodejs
# package brings npm and conflicts with Debian's).
DEB_COMMANDS = node:nodejs npm:npm

.PHONY: deps demo test

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	for cp in $(DEB_COMMANDS); do \
		command -v $${cp%%:*} >/dev/null 2>&1 || missing="$$missing $${cp#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: deps
	$(MAKE) -s install PG_CONFIG=$(PG_CONFIG)
	bash test/demo.sh

test: deps
	$(MAKE) -s install PG_CONFIG=$(PG_CONFIG)
	REGRESS="$(REGRESS)" ISOLATION="$(ISOLATION)" PG_CONFIG=$(PG_CONFIG) bash test/run_tests.sh

# every object depends on the internal headers
$(OBJS): src/tenancy.h src/compat.h
