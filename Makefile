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
	src/catalog.o \
	src/visibility.o \
	src/manage.o \
	src/triggers.o \
	src/protect.o \
	src/audit.o \
	src/migration.o \
	src/reporting.o \
	src/delegation.o \
	src/explain.o \
	src/planner.o

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
	attacks \
	audit \
	reporting \
	delegation \
	operator \
	upgrade \
	migration

ISOLATION = \
	revoke_visibility \
	concurrent_grants \
	scope_changes \
	migration_approvals \
	migration_freeze \
	migration_snapshot
ISOLATION_OPTS = --inputdir=test/isolation

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

override CFLAGS += -Wall -Wmissing-prototypes -Wdeclaration-after-statement

# Debian packages the build, the demo and the tests need.
DEB_PACKAGES = postgresql-15 postgresql-server-dev-15 libpq-dev postgresql-contrib \
	gcc make libipc-run-perl pgbouncer

.PHONY: deps demo test

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
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
