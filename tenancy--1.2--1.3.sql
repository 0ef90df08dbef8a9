/* tenancy--1.2--1.3.sql -- walls that survive an outside attacker (R24, R12, R22) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.3'" to load this file. \quit

/* ------------------------------------------------------------------
 * Derived objects: views, materialized views, partitions, inheritance
 * children and foreign keys of protected tables (R24, R11), ddl.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Pooled connections: cursors, temporary tables and session-level
 * act_as behind transaction pooling (R4, R24), identity.c
 * ------------------------------------------------------------------ */
-- Nothing in SQL: the setting tenancy.local_identity_only and the checks
-- of cursors and temporary tables (session.c) live in the library.

/* ------------------------------------------------------------------
 * Entry points, users and reporting logins (R3, R12, R13, R14)
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Audit log: who, when, order, anchor (R22), audit.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */
