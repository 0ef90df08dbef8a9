/* tenancy--1.2--1.3.sql -- walls that survive an outside attacker (R24, R12, R22) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.3'" to load this file. \quit

/* ------------------------------------------------------------------
 * Derived objects: views, materialized views, partitions, inheritance
 * children and foreign keys of protected tables (R24, R11), ddl.c
 * ------------------------------------------------------------------ */

/*
 * derived_problems: the one coding of R24's rules on derived objects.  For
 * the relations in relids (NULL: every relation), the views, materialized
 * views and rules that read a protected table past its walls, and the
 * foreign keys into or out of a protected table that act as an oracle.
 * Asked by the event trigger tenancy_ddl_end for what a command touched
 * (it refuses the command on the first row) and by protect(), and by
 * check() for the whole database.  No SET clause, so that it is inlined into
 * its callers' plans (kept by the event trigger); both callers run it with
 * search_path pinned to pg_catalog, pg_temp, and only the extension's owner
 * may execute it.
 */
CREATE FUNCTION @extschema@.derived_problems(relids oid[])
	RETURNS TABLE (object text, problem text, detail text, hint text)
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $derived$
WITH RECURSIVE
protected AS (
	SELECT p.relid::oid AS relid, p.administration_column AS col
	  FROM @extschema@.protected_table p
),
-- the relations asked about, and every relation whose rules read one of
-- those that is a view, directly or through other views (a view changed
-- by a command changes what the views above it read with their owners'
-- rights; a table changed does not).  Both walks follow pg_depend's
-- indexes from the relations asked about, so that a command pays for what
-- it touched, not for every view of the database.
affected (relid) AS (
	SELECT r FROM pg_catalog.unnest(relids) r
	UNION
	SELECT rw.ev_class FROM pg_catalog.pg_rewrite rw WHERE relids IS NULL
	UNION
	SELECT rw.ev_class
	  FROM affected a
	  JOIN pg_catalog.pg_class c ON c.oid = a.relid AND c.relkind = 'v'
	  CROSS JOIN LATERAL (
		SELECT d.objid FROM pg_catalog.pg_depend d
		 WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND d.refobjid = c.oid
		   AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass) d
	  JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
),
-- what each affected relation's rules (a view's is its definition) read
-- with its owner's rights: a security_invoker view read inside runs as that
-- owner too; a materialized view stores whatever any view below it returned
reach (origin, kind, relid) AS (
	SELECT a.relid, c.relkind, d.refobjid
	  FROM affected a
	  JOIN pg_catalog.pg_class c ON c.oid = a.relid
	  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = a.relid
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		   AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
	 WHERE d.refobjid <> a.relid
	UNION
	SELECT r.origin, r.kind, d.refobjid
	  FROM reach r
	  JOIN pg_catalog.pg_class v ON v.oid = r.relid AND v.relkind = 'v'
	  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		   AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
	 WHERE d.refobjid <> v.oid
	   AND (r.kind = 'm'
			OR EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
						WHERE o.option_name = 'security_invoker' AND o.option_value::boolean))
),
wall_breach AS (
	SELECT DISTINCT ON (o.oid) o.oid, o.relkind, p.relid, o.relowner
	  FROM reach r
	  JOIN protected p ON p.relid = r.relid
	  JOIN pg_catalog.pg_class o ON o.oid = r.origin
	  JOIN pg_catalog.pg_roles ow ON ow.oid = o.relowner
	 WHERE o.oid <> p.relid
	   AND (o.relkind = 'm'
			OR ((ow.rolsuper OR ow.rolbypassrls)
				AND NOT (o.relkind = 'v' AND EXISTS (
					SELECT 1 FROM pg_catalog.pg_options_to_table(o.reloptions) x
					 WHERE x.option_name = 'security_invoker' AND x.option_value::boolean))))
	 ORDER BY o.oid, p.relid
),
fk AS (
	SELECT con.oid, con.conname, con.conrelid, con.confrelid,
		   con.confdeltype, con.confupdtype,
		   pf.col AS from_col, pr.col AS to_col,
		   (SELECT a.attnum FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid = con.conrelid AND a.attname = pf.col) AS from_attnum,
		   (SELECT a.attnum FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid = con.confrelid AND a.attname = pr.col) AS to_attnum,
		   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
			  FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
			  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS from_cols,
		   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
			  FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i)
			  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS to_cols,
		   con.conkey, con.confkey
	  FROM pg_catalog.pg_constraint con
	  LEFT JOIN protected pf ON pf.relid = con.conrelid
	  LEFT JOIN protected pr ON pr.relid = con.confrelid
	 WHERE con.contype = 'f' AND con.conparentid = 0
	   AND (pf.relid IS NOT NULL OR pr.relid IS NOT NULL)
	   AND (relids IS NULL OR con.conrelid = ANY (relids) OR con.confrelid = ANY (relids))
)
SELECT b.oid::regclass::text,
	   CASE b.relkind
		   WHEN 'm' THEN format('materialized view %s stores rows of protected table %s',
								b.oid::regclass, b.relid::regclass)
		   WHEN 'v' THEN format('view %s reads protected table %s as role %s, which bypasses row security',
								b.oid::regclass, b.relid::regclass, b.relowner::regrole)
		   ELSE format('a rule of %s reads protected table %s as role %s, which bypasses row security',
					   b.oid::regclass, b.relid::regclass, b.relowner::regrole)
	   END,
	   CASE b.relkind
		   WHEN 'm' THEN 'A materialized view keeps the rows its refresher could see and shows them to every reader without row security.'
		   ELSE 'A view or rule reads with its owner''s rights, and row security does not apply to a superuser or a role with BYPASSRLS.'
	   END,
	   CASE b.relkind
		   WHEN 'm' THEN 'Use a view made with tenancy.create_secured_view() instead.'
		   ELSE 'Make it with tenancy.create_secured_view() or WITH (security_invoker = true), or give it an owner that is subject to row security.'
	   END
  FROM wall_breach b
UNION ALL
SELECT f.conrelid::regclass::text,
	   CASE WHEN f.to_col IS NOT NULL
			THEN format('foreign key %s of %s references protected table %s without its administration column',
						quote_ident(f.conname), f.conrelid::regclass, f.confrelid::regclass)
			ELSE format('foreign key %s of protected table %s changes its rows from unprotected table %s',
						quote_ident(f.conname), f.conrelid::regclass, f.confrelid::regclass)
	   END,
	   CASE WHEN f.to_col IS NOT NULL
			THEN 'Foreign keys are checked without row security: such a key tells whether another firm holds a key value, and ties rows across firms.'
			ELSE 'A cascading action updates or deletes the rows of every firm without row security.'
	   END,
	   CASE WHEN f.to_col IS NOT NULL
			THEN format('Reference a key that includes the administration column: (%s, %s) REFERENCES %s (%s, %s).',
						quote_ident(coalesce(f.from_col, f.to_col)), f.from_cols, f.confrelid::regclass,
						quote_ident(f.to_col), f.to_cols)
			ELSE 'Use ON DELETE and ON UPDATE NO ACTION or RESTRICT.'
	   END
  FROM fk f
 WHERE CASE WHEN f.to_col IS NOT NULL
			-- the referenced administration column pairs with the
			-- referencing one (with some column, from an unprotected table)
			THEN NOT EXISTS (
				SELECT 1 FROM generate_subscripts(f.confkey, 1) i
				 WHERE f.confkey[i] = f.to_attnum
				   AND (f.from_col IS NULL OR f.conkey[i] = f.from_attnum))
			ELSE f.confdeltype IN ('c', 'n', 'd') OR f.confupdtype IN ('c', 'n', 'd')
	   END
$derived$;
COMMENT ON FUNCTION @extschema@.derived_problems(oid[]) IS
	'views, materialized views and rules that read protected tables past their walls, and foreign keys that act as oracles, among the given relations and what reads them (NULL: all) (R24)';
REVOKE ALL ON FUNCTION @extschema@.derived_problems(oid[]) FROM PUBLIC;

/*
 * The event triggers (ddl.c).  Their functions run as the user of the
 * command; nobody but the extension's owner may call them directly.
 */
CREATE FUNCTION @extschema@.ddl_start() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'tenancy_ddl_start' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ddl_start() IS
	'event trigger: refuses ALTER TABLE, CREATE/ALTER POLICY and renames that would change the walls of a protected table (R24)';
CREATE FUNCTION @extschema@.ddl_end() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'tenancy_ddl_end' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ddl_end() IS
	'event trigger: protects new partitions and inheritance children of protected tables, and refuses views, materialized views, rules and foreign keys that leak them (R24, R11)';
CREATE FUNCTION @extschema@.ddl_drop() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'tenancy_ddl_drop' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ddl_drop() IS
	'event trigger: refuses dropping the policies and triggers of a protected table without the table (R24)';
REVOKE ALL ON FUNCTION @extschema@.ddl_start() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ddl_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ddl_drop() FROM PUBLIC;

CREATE EVENT TRIGGER tenancy_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER POLICY', 'CREATE POLICY', 'ALTER TRIGGER')
	EXECUTE FUNCTION @extschema@.ddl_start();
CREATE EVENT TRIGGER tenancy_ddl_end ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER TABLE', 'ALTER FOREIGN TABLE',
				 'CREATE VIEW', 'ALTER VIEW', 'CREATE MATERIALIZED VIEW',
				 'ALTER MATERIALIZED VIEW', 'CREATE RULE')
	EXECUTE FUNCTION @extschema@.ddl_end();
CREATE EVENT TRIGGER tenancy_ddl_drop ON sql_drop
	EXECUTE FUNCTION @extschema@.ddl_drop();

/*
 * check() (R23), redefined: derived objects, children, foreign keys and
 * unique keys are errors; the event triggers and the reporting logins'
 * memberships are checked too.
 */
CREATE OR REPLACE FUNCTION @extschema@.check()
	RETURNS TABLE (severity text, object text, problem text, hint text)
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $check$
WITH RECURSIVE protected AS (
	SELECT p.relid::oid AS relid, p.administration_column AS col, c.relkind
	  FROM @extschema@.protected_table p JOIN pg_catalog.pg_class c ON c.oid = p.relid::oid
),
app_role AS (
	-- roles the application or reporting tools log in as
	SELECT m.member AS roleid FROM pg_catalog.pg_auth_members m
	 WHERE m.roleid = 'tenancy_app'::regrole
	UNION
	SELECT r.role::oid FROM @extschema@.reporting_login r
),
expected_policy (polname, polcmd, permissive, qual_fn, check_fn) AS (
	VALUES ('tenancy_wall', '*', false, 'row_in_scope', 'row_in_scope'),
		   ('tenancy_read', 'r', true, 'row_readable', NULL),
		   ('tenancy_insert', 'a', true, NULL, 'row_writable'),
		   ('tenancy_update', 'w', true, 'row_writable', 'row_writable'),
		   ('tenancy_delete', 'd', true, 'row_writable', NULL)
),
-- every partition and inheritance child below a protected table
descendant (relid, ancestor, ispartition) AS (
	SELECT i.inhrelid, p.relid, c.relispartition
	  FROM protected p JOIN pg_catalog.pg_inherits i ON i.inhparent = p.relid
	  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
	UNION
	SELECT i.inhrelid, d.ancestor, c.relispartition
	  FROM descendant d JOIN pg_catalog.pg_inherits i ON i.inhparent = d.relid
	  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
)
-- application tables that carry an administration column but are not protected
SELECT 'warning', c.oid::regclass::text,
	   pg_catalog.format('column %s holds administration ids but the table is not protected', a.attname),
	   'Protect it with tenancy.protect(), or rename the column if it holds no administration id.'
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM descendant d WHERE d.relid = c.oid)
   AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
							  '@extschema@'::regnamespace)
   AND c.relnamespace::regnamespace::text NOT LIKE 'pg\_%'
   AND (a.attname = 'administration_id' OR a.attname IN (SELECT col FROM protected))
   AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = c.oid)
UNION ALL
-- partitions and inheritance children of protected tables left unprotected
SELECT DISTINCT 'error', d.relid::regclass::text,
	   CASE WHEN d.ispartition THEN 'partition of protected table ' || d.ancestor::regclass::text || ' is not protected'
			ELSE 'inheritance child of protected table ' || d.ancestor::regclass::text || ' is not protected' END,
	   'Run tenancy.protect() on it: read directly, it has no walls of its own.'
  FROM descendant d
 WHERE NOT EXISTS (SELECT 1 FROM protected q WHERE q.relid = d.relid)
UNION ALL
-- row security switched off or not forced
SELECT 'error', p.relid::regclass::text, 'row security is disabled',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relrowsecurity
UNION ALL
SELECT 'error', p.relid::regclass::text, 'row security is not forced: the owner bypasses it',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relforcerowsecurity
UNION ALL
-- tenancy policies dropped or altered
SELECT 'error', p.relid::regclass::text, pg_catalog.format('policy %s is missing or altered', e.polname),
	   'Run tenancy.protect() on the table again to restore its policies.'
  FROM protected p CROSS JOIN expected_policy e
 WHERE NOT EXISTS (
	SELECT 1 FROM pg_catalog.pg_policy pol
	 WHERE pol.polrelid = p.relid AND pol.polname = e.polname
	   AND pol.polcmd = e.polcmd AND pol.polpermissive = e.permissive
	   AND pol.polroles = '{0}'
	   AND pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.qual_fn || '(' || pg_catalog.quote_ident(p.col) || ')')
	   AND pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.check_fn || '(' || pg_catalog.quote_ident(p.col) || ')'))
UNION ALL
-- any other policy: a permissive one widens what a compartment's users
-- see, a restrictive one may call a function that sees other firms' rows
SELECT 'error', p.relid::regclass::text, pg_catalog.format('policy %s was not installed by tenancy', pol.polname),
	   'Drop it: the walls of a protected table change only through tenancy.protect().'
  FROM protected p JOIN pg_catalog.pg_policy pol ON pol.polrelid = p.relid
 WHERE pol.polname NOT IN (SELECT polname FROM expected_policy)
UNION ALL
-- guard triggers dropped, disabled, or set to fire only in replica mode
SELECT 'error', p.relid::regclass::text, pg_catalog.format('trigger %s is missing or disabled', t.tgname),
	   'Run tenancy.protect() on the table again.'
  FROM protected p
  CROSS JOIN LATERAL (VALUES ('tenancy_guard'), ('tenancy_no_truncate')) t(tgname)
 WHERE (t.tgname <> 'tenancy_guard' OR p.relkind = 'r')
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
					WHERE g.tgrelid = p.relid AND g.tgname = t.tgname AND g.tgenabled = 'O')
UNION ALL
-- the extension's own invariant triggers disabled
SELECT 'error', g.tgrelid::regclass::text, pg_catalog.format('trigger %s is disabled', g.tgname),
	   'ALTER TABLE ... ENABLE TRIGGER; the catalog invariants and the audit depend on it.'
  FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
 WHERE c.relnamespace = '@extschema@'::regnamespace AND NOT g.tgisinternal AND g.tgenabled = 'D'
UNION ALL
-- the event triggers that keep the walls and derived objects in check
SELECT 'error', e.evtname::text, 'event trigger is missing or disabled: DDL on protected tables goes unchecked',
	   pg_catalog.format('ALTER EVENT TRIGGER %s ENABLE, or ALTER EXTENSION tenancy UPDATE if it is missing.', e.evtname)
  FROM (VALUES ('tenancy_ddl_start'), ('tenancy_ddl_end'), ('tenancy_ddl_drop')) e(evtname)
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger t
					WHERE t.evtname = e.evtname AND t.evtenabled = 'O')
UNION ALL
-- roles that bypass row security but log in as application or reporting roles
SELECT 'error', r.rolname::text,
	   CASE WHEN r.rolsuper THEN 'a superuser is bound as reporting login or is a member of tenancy_app'
			ELSE 'a BYPASSRLS role is bound as reporting login or is a member of tenancy_app' END,
	   'Use a plain role: row security does not apply to superusers and BYPASSRLS roles.'
  FROM pg_catalog.pg_roles r JOIN app_role a ON a.roleid = r.oid
 WHERE r.rolsuper OR r.rolbypassrls
UNION ALL
-- reporting logins that became able to step out of their read-only scope
-- (the conditions bind_reporting_login refuses)
SELECT DISTINCT 'error', l.role::text,
	   CASE WHEN x.rolsuper THEN 'reporting login is or can become a superuser'
			WHEN x.rolbypassrls THEN 'reporting login is or can become a role with BYPASSRLS'
			WHEN x.rolname IN ('tenancy_app', 'tenancy_admin') THEN 'reporting login is a member of ' || x.rolname
			ELSE 'reporting login owns or can become the owner of a protected table' END,
	   'Revoke the membership or attribute, or unbind the login with tenancy.unbind_reporting_login().'
  FROM @extschema@.reporting_login l
  JOIN pg_catalog.pg_roles x ON pg_catalog.pg_has_role(l.role::oid, x.oid, 'MEMBER')
 WHERE (x.rolsuper OR x.rolbypassrls OR x.rolname IN ('tenancy_app', 'tenancy_admin')
		OR x.oid IN (SELECT c.relowner FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid))
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles y
					WHERE y.oid = l.role::oid AND (y.rolsuper OR y.rolbypassrls))
UNION ALL
-- application roles that own protected tables
SELECT 'error', p.relid::regclass::text, pg_catalog.format('owned by application role %s', c.relowner::regrole),
	   'Give the table to a separate owner role: an owner changes its grants and its columns.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
 WHERE c.relowner IN (SELECT roleid FROM app_role)
UNION ALL
-- application roles holding TRUNCATE or REFERENCES
SELECT 'warning', p.relid::regclass::text,
	   pg_catalog.format('application role %s holds %s', a.roleid::regrole, x.priv),
	   CASE x.priv WHEN 'TRUNCATE' THEN 'REVOKE TRUNCATE: it ignores row security (the guard trigger refuses it).'
			ELSE 'REVOKE REFERENCES: a foreign key reveals which keys exist in other firms.' END
  FROM protected p CROSS JOIN app_role a
  CROSS JOIN (VALUES ('TRUNCATE'), ('REFERENCES')) x(priv)
  JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
 WHERE NOT r.rolsuper AND pg_catalog.has_table_privilege(a.roleid, p.relid, x.priv)
UNION ALL
-- unique indexes and exclusion constraints without the administration column
SELECT 'error', i.indexrelid::regclass::text,
	   CASE WHEN i.indisexclusion
			THEN 'exclusion constraint on ' || p.relid::regclass::text || ' does not include the administration column'
			ELSE 'unique index on ' || p.relid::regclass::text || ' does not include the administration column' END,
	   pg_catalog.format('Its errors tell one firm that another holds a value; include the administration column: %s (%s%s, %s), and let foreign keys reference that pair.',
			CASE WHEN i.indisexclusion THEN 'EXCLUDE' ELSE 'UNIQUE' END,
			pg_catalog.quote_ident(p.col),
			CASE WHEN i.indisexclusion THEN ' WITH =' ELSE '' END,
			(SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)
			   FROM pg_catalog.generate_series(1, i.indnkeyatts) k))
  FROM protected p JOIN pg_catalog.pg_index i ON i.indrelid = p.relid
 WHERE (i.indisunique OR i.indisexclusion)
   AND NOT ((SELECT a.attnum FROM pg_catalog.pg_attribute a
			  WHERE a.attrelid = p.relid AND a.attname = p.col) = ANY (i.indkey::int2[]))
UNION ALL
-- views, materialized views and rules that read protected tables past
-- their walls; foreign keys that act as oracles (one coding: derived_problems)
SELECT 'error', d.object, d.problem, d.hint
  FROM @extschema@.derived_problems(NULL) d
 ORDER BY 1, 2, 3
$check$;
COMMENT ON FUNCTION @extschema@.check() IS
	'holes in the protection: unprotected tables, partitions and children, altered walls, disabled event triggers, risky roles and reporting logins, leaking keys, views, rules, materialized views and foreign keys (R23, R24)';

/* ------------------------------------------------------------------
 * Pooled connections: cursors, temporary tables and session-level
 * act_as behind transaction pooling (R4, R24), identity.c
 * ------------------------------------------------------------------ */

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
