/* tenancy--1.2--1.3.sql -- walls that survive an outside attacker (R24, R12, R22) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.3'" to load this file. \quit

/* ------------------------------------------------------------------
 * The extension's schema (R24)
 * ------------------------------------------------------------------ */

/*
 * schema_problems: what lets a role other than a superuser into the
 * extension's schema and catalog.  CREATE EXTENSION uses a schema named
 * tenancy that exists already, whoever owns it, and the library finds its
 * catalog there by name.  A role that created the schema beforehand (any
 * role with CREATE on the database) would own the extension's catalog: it
 * could rename the schema away (every guard off), put a catalog of its own
 * in its place, or add functions that check() runs as a superuser.  A role
 * that may create objects in it could do the last; an object another role
 * put there before the install stays there (an overload of a function the
 * README calls with integer literals, create_client(integer, ...), runs
 * instead of tenancy's, as its caller).  And default privileges of the
 * installing role (ALTER DEFAULT PRIVILEGES ... GRANT ... ON TABLES) give
 * other roles privileges on the catalog's tables, sequences, views and
 * functions that tenancy does not grant.  Each row names the object, the
 * problem and what to do; fix is the REVOKE for a privilege, NULL for the
 * rest.  Asked by this script (the install and every update refuse the rows
 * without fix before anything else, and run the fixes at the end) and by
 * check().
 */
CREATE FUNCTION @extschema@.schema_problems()
	RETURNS TABLE (object text, problem text, hint text, fix text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $problems$
WITH ext AS (
	SELECT n.oid AS nsp, n.nspname, n.nspowner, n.nspacl
	  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'tenancy'
),
super AS (SELECT r.oid FROM pg_roles r WHERE r.rolsuper),
-- the schema's objects that belong to a role other than a superuser: the
-- owner of every object not owned by the bootstrap superuser is recorded in
-- pg_shdepend, whatever its kind
owned (classid, objid, owner) AS (
	SELECT d.classid, d.objid, d.refobjid
	  FROM pg_shdepend d
	  JOIN pg_database db ON db.oid = d.dbid AND db.datname = current_database()
	 CROSS JOIN ext
	 CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) i
	 WHERE d.deptype = 'o' AND d.refclassid = 'pg_authid'::regclass
	   AND d.refobjid NOT IN (SELECT oid FROM super)
	   AND i.schema = ext.nspname
),
-- privileges on the catalog's relations and functions held by roles that
-- are neither the owner nor a superuser; tenancy itself grants only
-- SELECT on its views and EXECUTE on functions, to PUBLIC, tenancy_app
-- and tenancy_admin
granted (object, keyword, grantee, privilege) AS (
	SELECT c.oid::regclass::text,
		   CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
		   a.grantee, a.privilege_type
	  FROM pg_class c JOIN ext ON c.relnamespace = ext.nsp
	 CROSS JOIN LATERAL aclexplode(c.relacl) a
	 WHERE a.grantee <> c.relowner AND a.grantee NOT IN (SELECT oid FROM super)
	   AND NOT (c.relkind = 'v' AND a.privilege_type = 'SELECT' AND
				(a.grantee = 0 OR a.grantee IN ('tenancy_app'::regrole, 'tenancy_admin'::regrole)))
	UNION ALL
	-- column privileges (GRANT SELECT (col) ...)
	SELECT c.oid::regclass::text, 'TABLE', a.grantee,
		   a.privilege_type || ' (' || quote_ident(att.attname) || ')'
	  FROM pg_class c JOIN ext ON c.relnamespace = ext.nsp
	  JOIN pg_attribute att ON att.attrelid = c.oid AND att.attacl IS NOT NULL
	 CROSS JOIN LATERAL aclexplode(att.attacl) a
	 WHERE a.grantee <> c.relowner AND a.grantee NOT IN (SELECT oid FROM super)
	UNION ALL
	SELECT p.oid::regprocedure::text, 'FUNCTION', a.grantee, a.privilege_type
	  FROM pg_proc p JOIN ext ON p.pronamespace = ext.nsp
	 CROSS JOIN LATERAL aclexplode(p.proacl) a
	 WHERE a.grantee <> p.proowner AND a.grantee NOT IN (SELECT oid FROM super)
	   AND a.grantee <> 0 AND a.grantee NOT IN ('tenancy_app'::regrole, 'tenancy_admin'::regrole)
)
SELECT 'schema ' || quote_ident(ext.nspname),
	   format('owned by role %s, which is not a superuser: it could rename the schema or replace the catalog',
			  ext.nspowner::regrole),
	   format('ALTER SCHEMA %I OWNER TO a superuser, or drop the schema before CREATE EXTENSION.', ext.nspname),
	   NULL
  FROM ext WHERE ext.nspowner NOT IN (SELECT oid FROM super)
UNION ALL
SELECT 'schema ' || quote_ident(ext.nspname),
	   format('%s may create objects in it, beside the catalog',
			  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE 'role ' || a.grantee::regrole::text END),
	   format('REVOKE CREATE ON SCHEMA %I FROM %s.', ext.nspname,
			  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END),
	   NULL
  FROM ext CROSS JOIN LATERAL aclexplode(ext.nspacl) a
 WHERE a.privilege_type = 'CREATE' AND a.grantee <> ext.nspowner
   AND a.grantee NOT IN (SELECT oid FROM super)
UNION ALL
-- another extension's objects in the schema (installed past the event
-- triggers, or before the install)
SELECT 'extension ' || quote_ident(e.extname),
	   'is installed in the schema of extension tenancy',
	   format('Move it (ALTER EXTENSION %I SET SCHEMA ...) or drop it.', e.extname),
	   NULL
  FROM pg_extension e JOIN ext ON e.extnamespace = ext.nsp
 WHERE e.extname <> 'tenancy'
UNION ALL
SELECT pg_describe_object(o.classid, o.objid, 0),
	   format('belongs to role %s, not to the extension', o.owner::regrole),
	   'Drop it: an object of another role in the extension''s schema can stand in for tenancy''s own (a function called with other argument types runs instead of tenancy''s, as its caller).',
	   NULL
  FROM owned o
UNION ALL
SELECT lower(g.keyword) || ' ' || g.object,
	   format('%s holds %s on it, which tenancy does not grant',
			  CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE 'role ' || g.grantee::regrole::text END,
			  g.privilege),
	   'Revoke it (default privileges of the role that installed the extension give them): the catalog is read and written only through tenancy''s functions and views.',
	   format('REVOKE %s ON %s %s FROM %s CASCADE', g.privilege, g.keyword, g.object,
			  CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END)
  FROM granted g
$problems$;
REVOKE ALL ON FUNCTION @extschema@.schema_problems() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.schema_problems() IS
	'what lets another role than a superuser into the extension''s schema and catalog: its owner, CREATE on it, other extensions and objects of other roles in it, privileges tenancy does not grant (R24)';

-- refuse before anything else of 1.3 runs; the whole command is undone
DO $schema$
DECLARE
	p record;
BEGIN
	SELECT s.object, s.problem, s.hint INTO p
	  FROM @extschema@.schema_problems() s
	 WHERE s.fix IS NULL
	 ORDER BY s.object COLLATE "C", s.problem COLLATE "C"
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('cannot install tenancy 1.3: %s (%s)', p.object, p.problem),
			DETAIL = 'The library finds its catalog in schema tenancy by name: a role that owns it, may create objects in it, or put objects there, could rename it, put a catalog of its own in its place, or have its functions run instead of tenancy''s.',
			HINT = p.hint;
	END IF;
END
$schema$;

/* ------------------------------------------------------------------
 * Derived objects: views, materialized views, partitions, inheritance
 * children and foreign keys of protected tables (R24, R11), ddl.c
 * ------------------------------------------------------------------ */

/*
 * derived_problems: the one coding of R24's rules on derived objects.  For
 * the relations in relids (NULL: every relation), the views, materialized
 * views and rules that read a protected table past its walls, the parents
 * of a protected table that are not protected by the same column, and the
 * foreign keys into or out of a protected table that act as an oracle or
 * write its administration column without row security.
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
	  CROSS JOIN LATERAL (
		SELECT d.objid FROM pg_catalog.pg_depend d
		 WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND d.refobjid = a.relid
		   AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass) d
	  JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
	 -- a relation's kind by its oid, one lookup each (a join let the plan,
	 -- which must also serve relids NULL, scan all of pg_class)
	 WHERE (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = a.relid) = 'v'
),
-- what each affected relation's rules (a view's is its definition) read
-- with its owner's rights: a security_invoker view read inside runs as that
-- owner too; a materialized view stores whatever any view below it returned.
-- select: reached through the origin's SELECT rule (its definition).  Only
-- that rule of a security_invoker view runs with its caller's rights; its
-- INSERT, UPDATE and DELETE rules run with its owner's, as any rule does
-- (PostgreSQL 15; 1.3's last attack read and wrote every firm's rows
-- through a superuser's security_invoker view's INSERT rule).  Reading a
-- view below fires only its SELECT rule.
reach (origin, kind, selects, relid) AS (
	SELECT a.relid, (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = a.relid),
		   rw.ev_type = '1', d.refobjid
	  FROM affected a
	  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = a.relid
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		   AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
	 WHERE d.refobjid <> a.relid
	UNION
	SELECT r.origin, r.kind, r.selects, d.refobjid
	  FROM reach r
	  JOIN pg_catalog.pg_class v ON v.oid = r.relid AND v.relkind = 'v'
	  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid AND rw.ev_type = '1'
	  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		   AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
	 WHERE d.refobjid <> v.oid
	   AND (r.kind = 'm'
			OR EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
						WHERE o.option_name = 'security_invoker' AND o.option_value::boolean))
),
wall_breach AS (
	SELECT DISTINCT ON (o.oid) o.oid, o.relkind, r.selects, p.relid, o.relowner
	  FROM reach r
	  JOIN protected p ON p.relid = r.relid
	  JOIN pg_catalog.pg_class o ON o.oid = r.origin
	  JOIN pg_catalog.pg_roles ow ON ow.oid = o.relowner
	 WHERE o.oid <> p.relid
	   AND (o.relkind = 'm'
			OR ((ow.rolsuper OR ow.rolbypassrls)
				AND NOT (o.relkind = 'v' AND r.selects AND EXISTS (
					SELECT 1 FROM pg_catalog.pg_options_to_table(o.reloptions) x
					 WHERE x.option_name = 'security_invoker' AND x.option_value::boolean))))
	 ORDER BY o.oid, p.relid, r.selects DESC
),
-- the foreign keys of and into the relations asked about, found by the
-- catalogs' indexes (pg_constraint by conrelid; the referenced side
-- through pg_depend, as pg_constraint has no index on confrelid); every
-- foreign key only for relids NULL.  Each branch's test of relids alone
-- becomes a one-time filter of the kept generic plan, so an event trigger
-- pays for what the command touched, not for the size of the catalog.
fk_candidate (oid) AS (
	SELECT con.oid FROM pg_catalog.pg_constraint con
	 WHERE relids IS NULL AND con.contype = 'f'
	UNION
	SELECT con.oid FROM pg_catalog.unnest(relids) r
	  JOIN pg_catalog.pg_constraint con ON con.conrelid = r AND con.contype = 'f'
	UNION
	SELECT d.objid FROM pg_catalog.unnest(relids) r
	  JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
		   AND d.refobjid = r AND d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
),
-- their rows, each found by its oid: the LIMIT keeps the planner from
-- joining the candidates to a scan of all of pg_constraint, which its
-- estimate of the relids-NULL branch would otherwise choose
fk_row AS (
	SELECT c.*
	  FROM fk_candidate k
	 CROSS JOIN LATERAL (
		SELECT con.* FROM pg_catalog.pg_constraint con
		 WHERE con.oid = k.oid AND con.contype = 'f' AND con.conparentid = 0
		 LIMIT 1) c
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
		   con.conkey, con.confkey,
		   -- ON DELETE SET NULL (cols) names them from PostgreSQL 15
		   -- (confdelsetcols, read through to_jsonb so that the function is
		   -- created on older releases too)
		   pg_catalog.to_jsonb(con) -> 'confdelsetcols' AS delsetcols
	  FROM fk_row con
	  LEFT JOIN protected pf ON pf.relid = con.conrelid
	  LEFT JOIN protected pr ON pr.relid = con.confrelid
	 WHERE pf.relid IS NOT NULL OR pr.relid IS NOT NULL
),
-- does a referential action set the referencing administration column?
-- ON DELETE SET NULL/DEFAULT sets the columns it names, else all of conkey
fk_sets AS (
	SELECT f.*,
		   (f.confdeltype IN ('n', 'd')
			AND f.from_attnum = ANY (coalesce(
				(SELECT pg_catalog.array_agg(e::int2)
				   FROM pg_catalog.jsonb_array_elements_text(
						CASE WHEN pg_catalog.jsonb_typeof(f.delsetcols) = 'array'
							 THEN f.delsetcols END) e),
				f.conkey)))
		   OR f.confupdtype IN ('n', 'd') AND f.from_attnum = ANY (f.conkey) AS sets_column
	  FROM fk f
),
-- an inheritance parent (or partitioned table) reads its children's rows
-- with its own policies alone: every protected table's parents are
-- protected, by the same column (1.3 review: a table made the parent of a
-- protected one with ALTER TABLE ... INHERIT or ATTACH PARTITION)
inheritance (child, parent) AS (
	SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i WHERE relids IS NULL
	UNION
	SELECT i.inhrelid, i.inhparent FROM pg_catalog.unnest(relids) r
	  JOIN pg_catalog.pg_inherits i ON i.inhrelid = r
	UNION
	SELECT i.inhrelid, i.inhparent FROM pg_catalog.unnest(relids) r
	  JOIN pg_catalog.pg_inherits i ON i.inhparent = r
),
parent_breach AS (
	SELECT i.parent, i.child, pc.col AS child_col, pp.col AS parent_col
	  FROM inheritance i
	  JOIN protected pc ON pc.relid = i.child
	  LEFT JOIN protected pp ON pp.relid = i.parent
	 WHERE pp.col IS DISTINCT FROM pc.col
)
SELECT b.oid::regclass::text,
	   CASE b.relkind
		   WHEN 'm' THEN format('materialized view %s stores rows of protected table %s',
								b.oid::regclass, b.relid::regclass)
		   ELSE CASE WHEN b.relkind = 'v' AND b.selects
			   THEN format('view %s reads protected table %s as role %s, which bypasses row security',
						   b.oid::regclass, b.relid::regclass, b.relowner::regrole)
			   ELSE format('a rule of %s reads protected table %s as role %s, which bypasses row security',
						   b.oid::regclass, b.relid::regclass, b.relowner::regrole) END
	   END,
	   CASE b.relkind
		   WHEN 'm' THEN 'A materialized view keeps the rows its refresher could see and shows them to every reader without row security.'
		   ELSE 'A view or rule reads with its owner''s rights, and row security does not apply to a superuser or a role with BYPASSRLS.'
	   END,
	   CASE b.relkind
		   WHEN 'm' THEN 'Use a view made with tenancy.create_secured_view() instead.'
		   ELSE CASE WHEN b.relkind = 'v' AND b.selects
			   THEN 'Make it with tenancy.create_secured_view() or WITH (security_invoker = true), or give it an owner that is subject to row security.'
			   ELSE 'Drop the rule, or give its relation an owner that is subject to row security (a view''s INSERT, UPDATE and DELETE rules run with its owner''s rights, security_invoker or not).' END
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
 WHERE CASE WHEN f.to_col IS NOT NULL AND f.from_col IS NOT NULL
			-- the referenced administration column pairs with the
			-- referencing one
			THEN NOT EXISTS (
				SELECT 1 FROM generate_subscripts(f.confkey, 1) i
				 WHERE f.confkey[i] = f.to_attnum AND f.conkey[i] = f.from_attnum)
			WHEN f.from_col IS NULL
			-- from an unprotected table: below
			THEN false
			ELSE f.confdeltype IN ('c', 'n', 'd') OR f.confupdtype IN ('c', 'n', 'd')
	   END
UNION ALL
-- a key from an unprotected table into a protected one: whoever may write
-- the unprotected table tests any firm's keys with it, paired or not (1.3
-- review)
SELECT f.conrelid::regclass::text,
	   format('foreign key %s of unprotected table %s references protected table %s',
			  quote_ident(f.conname), f.conrelid::regclass, f.confrelid::regclass),
	   'Foreign keys are checked without row security: whoever may write the unprotected table learns whether any firm holds a key value.',
	   format('A table that references a protected table must be protected itself: protect %s with tenancy.protect() before %s, or create it without the key, protect it, and then add the key with ALTER TABLE ... ADD FOREIGN KEY.',
			  f.conrelid::regclass, f.confrelid::regclass)
  FROM fk f
 WHERE f.from_col IS NULL
UNION ALL
-- a referential action that sets the administration column of a protected
-- table: it runs without row security, so the value it writes passes no
-- policy and no right, and moves the row into any administration, another
-- firm's included (1.3 review: ON DELETE SET DEFAULT with a default read
-- from a setting)
SELECT f.conrelid::regclass::text,
	   format('foreign key %s of protected table %s sets its administration column %s',
			  quote_ident(f.conname), f.conrelid::regclass, quote_ident(f.from_col)),
	   'A referential action runs without row security: SET NULL or SET DEFAULT writes a value that no policy or right checked, and can move rows into another firm.',
	   format('Use ON DELETE and ON UPDATE NO ACTION, RESTRICT or CASCADE, or set only the other columns: ON DELETE SET NULL (%s).',
			  coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
						  FROM unnest(f.conkey) WITH ORDINALITY k(attnum, i)
						  JOIN pg_catalog.pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum
						 WHERE k.attnum <> f.from_attnum), '...'))
  FROM fk_sets f
 WHERE f.from_col IS NOT NULL AND f.to_col IS NOT NULL AND f.sets_column
UNION ALL
SELECT b.parent::regclass::text,
	   CASE WHEN b.parent_col IS NULL
			THEN format('table %s is a parent of protected table %s but is not protected',
						b.parent::regclass, b.child::regclass)
			ELSE format('table %s is protected by column %s, its child %s by column %s',
						b.parent::regclass, quote_ident(b.parent_col), b.child::regclass,
						quote_ident(b.child_col))
	   END,
	   'A query of a parent reads its children''s rows with the parent''s policies alone, so the child''s walls hold only where the parent has the same.',
	   CASE WHEN b.parent_col IS NULL
			THEN format('Protect the parent first (SELECT tenancy.protect(%L, %L)), or take the child out of it (ALTER TABLE ... NO INHERIT or DETACH PARTITION).',
						b.parent::regclass::text, b.child_col)
			ELSE 'Protect both by the same column.'
	   END
  FROM parent_breach b
UNION ALL
-- a rule on a protected table itself: its actions see every row any firm
-- writes (NEW, OLD) and run with the owner's rights, where they can copy
-- the row out of the walls or do instead of the write (1.3 review)
SELECT rw.ev_class::regclass::text,
	   format('rule %s on protected table %s acts on the rows that every firm writes',
			  quote_ident(rw.rulename), rw.ev_class::regclass),
	   'A rule''s actions see each row written to the table, whichever firm writes it, and may copy it where row security does not reach or replace the write.',
	   format('Drop the rule (DROP RULE %s ON %s) and keep such logic in the application.',
			  quote_ident(rw.rulename), rw.ev_class::regclass)
  FROM pg_catalog.pg_rewrite rw
  JOIN protected p ON p.relid = rw.ev_class
 WHERE rw.rulename <> '_RETURN'
   AND (relids IS NULL OR rw.ev_class = ANY (relids))
$derived$;
COMMENT ON FUNCTION @extschema@.derived_problems(oid[]) IS
	'views, materialized views and rules that read protected tables past their walls, rules on protected tables, parents of protected tables that are not protected alike, and foreign keys that act as oracles or move rows, among the given relations and what reads them (NULL: all) (R24)';
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

-- CREATE DOMAIN and CREATE TYPE check nothing here: their firing loads the
-- library before the type exists, so that the object access hook refuses a
-- temporary one (session.c; a backend's first statement created one before
-- the library was loaded, and blocked every later act on it)
CREATE EVENT TRIGGER tenancy_ddl_start ON ddl_command_start
	WHEN TAG IN ('ALTER TABLE', 'ALTER POLICY', 'CREATE POLICY', 'ALTER TRIGGER',
				 'ALTER SCHEMA', 'GRANT', 'ALTER VIEW', 'ALTER MATERIALIZED VIEW',
				 'ALTER FOREIGN TABLE', 'ALTER INDEX', 'ALTER TYPE', 'CREATE EXTENSION',
				 'ALTER EXTENSION', 'CREATE DOMAIN', 'CREATE TYPE',
				 -- a fill in a session that had not loaded the library yet
				 'CREATE MATERIALIZED VIEW', 'REFRESH MATERIALIZED VIEW')
	EXECUTE FUNCTION @extschema@.ddl_start();
CREATE EVENT TRIGGER tenancy_ddl_end ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER TABLE', 'ALTER FOREIGN TABLE',
				 'CREATE VIEW', 'ALTER VIEW', 'CREATE MATERIALIZED VIEW',
				 'ALTER MATERIALIZED VIEW', 'REFRESH MATERIALIZED VIEW', 'CREATE RULE',
				 'CREATE TRIGGER', 'CREATE SCHEMA',
				 'ALTER INDEX', 'ALTER POLICY', 'ALTER TRIGGER', 'ALTER TYPE',
				 'CREATE EXTENSION', 'ALTER EXTENSION')
	EXECUTE FUNCTION @extschema@.ddl_end();
CREATE EVENT TRIGGER tenancy_ddl_drop ON sql_drop
	EXECUTE FUNCTION @extschema@.ddl_drop();

-- Scale-out with Citus (R25, distribute.c): what check() asks of Citus.
-- Their queries run with the search_path pinned, whoever calls them: a
-- comparison such as regclass = regclass has no exact operator in
-- pg_catalog, so one planted in a schema on the caller's path would win.
CREATE FUNCTION @extschema@.distributed_tables() RETURNS SETOF oid
	AS 'MODULE_PATHNAME', 'tenancy_distributed_tables' LANGUAGE C STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.distributed_tables() IS
	'for check(): the tables Citus distributes (none without Citus)';
CREATE FUNCTION @extschema@.shard_problems() RETURNS TABLE (object text, problem text)
	AS 'MODULE_PATHNAME', 'tenancy_shard_problems' LANGUAGE C VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.shard_problems() IS
	'for check(): shards of distributed protected tables whose row security, policies or triggers differ from their table''s';
CREATE FUNCTION @extschema@.replica_problems() RETURNS TABLE (object text, problem text)
	AS 'MODULE_PATHNAME', 'tenancy_replica_problems' LANGUAGE C VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.replica_problems() IS
	'for check(): the copies of the catalog on the Citus nodes (tenancy.replica_*) that differ from the catalog';
-- check() is SECURITY DEFINER: nobody else needs them
REVOKE ALL ON FUNCTION @extschema@.distributed_tables() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.shard_problems() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.replica_problems() FROM PUBLIC;

-- Scale-out with Citus (R25, token.c): what check() asks of the cluster secret
CREATE FUNCTION @extschema@.cluster_secret_state() RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_cluster_secret_state' LANGUAGE C VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.cluster_secret_state() IS
	'for check() on a Citus coordinator: a fingerprint of this node''s cluster secret (never the secret), or why it has none';
CREATE FUNCTION @extschema@.secret_problems() RETURNS TABLE (object text, problem text, hint text)
	AS 'MODULE_PATHNAME', 'tenancy_secret_problems' LANGUAGE C VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.secret_problems() IS
	'for check(): a Citus coordinator with distributed protected tables whose nodes lack a usable cluster secret or have different ones';
-- check() is SECURITY DEFINER and the coordinator connects as its owner
REVOKE ALL ON FUNCTION @extschema@.cluster_secret_state() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.secret_problems() FROM PUBLIC;

/*
 * check() (R23), redefined: derived objects, children, foreign keys and
 * unique keys are errors; the event triggers and the reporting logins'
 * memberships are checked too.
 */
/*
 * wall_problems: the one coding of what a protected table's walls are.  For
 * the protected tables among relids (NULL: every one), row security on and
 * forced, tenancy's policies exactly as protect() made them and no other,
 * the guard triggers exactly as protect() made them and enabled, and the
 * administration column under its name.  Asked by check() for every
 * protected table and by the event trigger tenancy_ddl_end for the tables
 * a command touched (ddl.c refuses the command on the first row): the
 * decision is taken from the catalogs after the statement, whatever name
 * or spelling the statement used to reach the table (1.3 review: a table
 * owner's ALTER TABLE raced a rename of the schema on its search_path, and
 * ALTER VIEW ... RENAME COLUMN renamed a table's administration column).
 * No SET clause, so that it is inlined into its callers' plans (the event
 * trigger keeps one generic plan; a function with SET clauses would plan
 * its body again at every DDL statement); both callers run it with
 * search_path pinned to pg_catalog, pg_temp, and only the extension's
 * owner may execute it.
 */
CREATE FUNCTION @extschema@.wall_problems(relids oid[])
	RETURNS TABLE (object text, problem text, hint text)
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $walls$
WITH protected AS (
	SELECT p.relid::oid AS relid, p.administration_column AS col, c.relkind,
		   p.relid IN (SELECT @extschema@.distributed_tables()) AS distributed
	  FROM @extschema@.protected_table p JOIN pg_catalog.pg_class c ON c.oid = p.relid::oid
	 WHERE relids IS NULL OR p.relid::oid = ANY (relids)
),
expected_policy (polname, polcmd, permissive, qual_fn, check_fn) AS (
	VALUES ('tenancy_wall', '*', false, 'row_in_scope', 'row_in_scope'),
		   ('tenancy_read', 'r', true, 'row_readable', NULL),
		   ('tenancy_insert', 'a', true, NULL, 'row_writable'),
		   ('tenancy_update', 'w', true, 'row_writable', 'row_writable'),
		   ('tenancy_delete', 'd', true, 'row_writable', NULL)
)
-- the administration column renamed or dropped
SELECT p.relid::regclass::text, pg_catalog.format('administration column %s is missing', p.col),
	   'Rename the column back, or run tenancy.unprotect() and tenancy.protect() with its new name.'
  FROM protected p
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					WHERE a.attrelid = p.relid AND a.attname = p.col AND NOT a.attisdropped)
UNION ALL
-- row security switched off or not forced
SELECT p.relid::regclass::text, 'row security is disabled',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relrowsecurity
UNION ALL
SELECT p.relid::regclass::text, 'row security is not forced: the owner bypasses it',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relforcerowsecurity
UNION ALL
-- tenancy policies dropped or altered
SELECT p.relid::regclass::text, pg_catalog.format('policy %s is missing or altered', e.polname),
	   'Run tenancy.protect() on the table again to restore its policies.'
  FROM protected p CROSS JOIN expected_policy e
 WHERE NOT (p.distributed AND e.polname = 'tenancy_wall')
   AND NOT EXISTS (
	SELECT 1 FROM pg_catalog.pg_policy pol
	 WHERE pol.polrelid = p.relid AND pol.polname = e.polname
	   AND pol.polcmd = e.polcmd AND pol.polpermissive = e.permissive
	   AND pol.polroles = '{0}'
	   AND pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.qual_fn || '(' || pg_catalog.quote_ident(p.col) || ')')
	   AND pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.check_fn || '(' || pg_catalog.quote_ident(p.col) || ')'))
UNION ALL
-- a distributed table (Citus) with a wall policy: Citus re-creates it
-- PERMISSIVE on every shard, where it opens the whole compartment (R25)
SELECT p.relid::regclass::text,
	   'policy tenancy_wall on a distributed table becomes permissive on its shards',
	   'Drop it: tenancy.distribute() leaves it out, since the right policies imply the wall.'
  FROM protected p JOIN pg_catalog.pg_policy pol ON pol.polrelid = p.relid
 WHERE p.distributed AND pol.polname = 'tenancy_wall'
UNION ALL
-- any other policy: a permissive one widens what a compartment's users
-- see, a restrictive one may call a function that sees other firms' rows
SELECT p.relid::regclass::text, pg_catalog.format('policy %s was not installed by tenancy', pol.polname),
	   'Drop it: the walls of a protected table change only through tenancy.protect().'
  FROM protected p JOIN pg_catalog.pg_policy pol ON pol.polrelid = p.relid
 WHERE pol.polname NOT IN (SELECT polname FROM expected_policy)
UNION ALL
-- guard triggers dropped, disabled, set to fire only in replica mode, or
-- replaced by another definition (CREATE OR REPLACE TRIGGER with a WHEN
-- clause, other events, another function or argument): each must be the
-- trigger protect() creates (BEFORE INSERT OR UPDATE OR DELETE FOR EACH
-- ROW, tgtype 31; BEFORE TRUNCATE FOR EACH STATEMENT, 34)
SELECT p.relid::regclass::text, pg_catalog.format('trigger %s is missing, disabled or altered', t.tgname),
	   'Run tenancy.protect() on the table again.'
  FROM protected p
  CROSS JOIN LATERAL (VALUES ('tenancy_guard', 31, '@extschema@.guard_row()'::pg_catalog.regprocedure,
							  pg_catalog.convert_to(p.col::text, pg_catalog.getdatabaseencoding())
							  OPERATOR(pg_catalog.||) '\x00'::bytea),
							 ('tenancy_no_truncate', 34, '@extschema@.guard_truncate()'::pg_catalog.regprocedure,
							  '\x'::bytea)) t(tgname, tgtype, tgfoid, tgargs)
 WHERE (t.tgname <> 'tenancy_guard' OR p.relkind = 'r')
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
					WHERE g.tgrelid = p.relid AND g.tgname = t.tgname AND g.tgenabled = 'O'
					  AND g.tgtype = t.tgtype AND g.tgfoid = t.tgfoid AND g.tgargs = t.tgargs
					  AND g.tgqual IS NULL AND g.tgattr = '' AND g.tgconstraint = 0
					  AND g.tgoldtable IS NULL AND g.tgnewtable IS NULL)
UNION ALL
-- a BEFORE ROW trigger on INSERT or UPDATE that fires after the guard:
-- row triggers fire in the order of their names, and one that sorts after
-- tenancy_guard may change the row the guard has checked (moved to another
-- client, into an archived administration: R11, R12).  tgtype bits: ROW 1,
-- BEFORE 2, INSERT 4, UPDATE 16.  A disabled one is reported once enabled.
SELECT p.relid::regclass::text,
	   pg_catalog.format('trigger %s fires after tenancy_guard and may change the row it checked', g.tgname),
	   pg_catalog.format('Rename it to sort before tenancy_guard: ALTER TRIGGER %I ON %s RENAME TO ...',
						 g.tgname, p.relid::regclass)
  FROM protected p JOIN pg_catalog.pg_trigger g ON g.tgrelid = p.relid
 WHERE NOT g.tgisinternal AND g.tgenabled <> 'D'
   AND g.tgname::text > 'tenancy_guard' COLLATE "C"
   AND (g.tgtype & 3) = 3 AND (g.tgtype & 20) <> 0
$walls$;
REVOKE ALL ON FUNCTION @extschema@.wall_problems(oid[]) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.wall_problems(oid[]) IS
	'the protected tables among relids (NULL: all) whose walls are off or altered: row security, policies, guard triggers, the administration column (R24)';

/*
 * login_risks: how a login can step out of row security, or a reporting
 * login out of its scope, through itself or a role it is a member of
 * (pg_has_role MEMBER: it may SET ROLE to it), most severe first.  The one
 * coding of the rule: bind_reporting_login refuses the first (reporting.c,
 * role_risk) and check() reports them all.  REPLICATION copies the data
 * files (pg_basebackup) and decodes the WAL (a logical slot); CREATEROLE
 * grants itself any role but a superuser (pg_execute_server_program,
 * tenancy_app); pg_execute_server_program runs psql as the server's OS
 * user, pg_read_server_files and pg_write_server_files read and write the
 * data files with COPY; pg_read_all_data and pg_write_all_data read and
 * write tenancy's catalog, which has no row security of its own (every
 * firm's users, clients and audit log; a reporting login's own binding);
 * pg_read_all_stats shows every session's statement text, a reporting
 * login the application's.  For an application role (application true),
 * membership of tenancy_app is its job, the ownership of a protected
 * table is reported table by table, and it reads its own sessions'
 * statements anyway.  A superuser gets its first risk only.
 */
CREATE FUNCTION @extschema@.login_risks(role oid, application boolean)
	RETURNS TABLE (rank integer, risk text)
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $risks$
-- the login and every role it is a member of, through any chain of grants
-- (what pg_has_role MEMBER answers, without asking it of every role)
WITH RECURSIVE reach(oid) AS (
	SELECT role
	UNION
	SELECT m.roleid FROM reach JOIN pg_catalog.pg_auth_members m ON m.member = reach.oid
)
SELECT x.rank, x.risk
  FROM reach JOIN pg_catalog.pg_roles r ON r.oid = reach.oid
  LEFT JOIN LATERAL (
	SELECT p.relid::pg_catalog.regclass::text AS relid
	  FROM @extschema@.protected_table p JOIN pg_catalog.pg_class c ON c.oid = p.relid
	 WHERE c.relowner = r.oid
	 ORDER BY 1 LIMIT 1) o ON true
 CROSS JOIN LATERAL (VALUES
		(1, r.rolsuper, 'is or can become a superuser'),
		(2, r.rolbypassrls, 'is or can become a role with BYPASSRLS'),
		(3, r.rolreplication, 'is or can become a role with REPLICATION'),
		(4, r.rolcreaterole, 'is or can become a role with CREATEROLE'),
		(5, r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
						  'pg_read_all_data', 'pg_write_all_data'),
		 'is a member of ' || r.rolname),
		(6, NOT application AND o.relid IS NOT NULL,
		 'owns or can become the owner of protected table ' || o.relid),
		(7, NOT application AND r.rolname IN ('tenancy_app', 'tenancy_admin', 'pg_read_all_stats'),
		 'is a member of ' || r.rolname)) x(rank, applies, risk)
 WHERE x.applies
   AND (x.rank = 1 OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles s
								   WHERE s.oid = role AND s.rolsuper))
 GROUP BY x.rank, x.risk
 ORDER BY x.rank, x.risk
$risks$;
REVOKE ALL ON FUNCTION @extschema@.login_risks(oid, boolean) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.login_risks(oid, boolean) IS
	'how a login steps out of row security or a reporting scope, most severe first (bind_reporting_login, check(); R14, R23)';

CREATE OR REPLACE FUNCTION @extschema@.check()
	RETURNS TABLE (severity text, object text, problem text, hint text)
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	-- a catalog query: on a large catalog its estimate passes JIT's
	-- thresholds, and compiling costs seconds where running costs milliseconds
	SET jit = off
	AS $check$
WITH RECURSIVE protected AS (
	SELECT p.relid::oid AS relid, p.administration_column AS col, c.relkind,
		   p.relid IN (SELECT @extschema@.distributed_tables()) AS distributed
	  FROM @extschema@.protected_table p JOIN pg_catalog.pg_class c ON c.oid = p.relid::oid
),
-- roles that may act as users: members of tenancy_app, directly or
-- through other roles (act_as asks has_privs_of_role; a member that does
-- not inherit may SET ROLE first)
app_member (roleid) AS (
	SELECT m.member FROM pg_catalog.pg_auth_members m
	 WHERE m.roleid = 'tenancy_app'::regrole
	UNION
	SELECT m.member FROM app_member a JOIN pg_catalog.pg_auth_members m ON m.roleid = a.roleid
),
-- roles the application or reporting tools log in as
login (roleid, reporting) AS (
	SELECT roleid, false FROM app_member
	UNION
	SELECT r.role::oid, true FROM @extschema@.reporting_login r
),
app_role AS (
	SELECT DISTINCT roleid FROM login
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
-- protected tables whose walls are off or altered: row security, policies,
-- guard triggers, the administration column (one coding: wall_problems)
SELECT 'error', w.object, w.problem, w.hint
  FROM @extschema@.wall_problems(NULL) w
UNION ALL
-- shards whose row security, policies or triggers differ from their table's
SELECT 'error', s.object, s.problem,
	   'Drop what was added on the worker, or move the shard (citus_move_shard_placement re-creates it from its table).'
  FROM @extschema@.shard_problems() s
UNION ALL
-- the catalog's copies on the Citus nodes that differ from the catalog: a
-- change made with triggers off (a restore, session_replication_role)
SELECT 'error', r.object, r.problem,
	   'Run SELECT tenancy.resync_replicas() on the coordinator.'
  FROM @extschema@.replica_problems() r
UNION ALL
-- nodes of a Citus cluster without the cluster secret, or with another
-- one: the workers act without an identity (token.c)
SELECT 'error', s.object, s.problem, s.hint
  FROM @extschema@.secret_problems() s
UNION ALL
-- the extension's schema and catalog: owned by another role than a
-- superuser, open to CREATE, objects of other roles, privileges tenancy
-- does not grant (R24; one coding: schema_problems)
SELECT 'error', s.object, s.problem, s.hint
  FROM @extschema@.schema_problems() s
UNION ALL
-- the extension's own invariant triggers disabled
SELECT 'error', g.tgrelid::regclass::text, pg_catalog.format('trigger %s is disabled', g.tgname),
	   'ALTER TABLE ... ENABLE TRIGGER; the catalog invariants and the audit depend on it.'
  FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
 WHERE c.relnamespace = '@extschema@'::regnamespace AND NOT g.tgisinternal AND g.tgenabled = 'D'
UNION ALL
-- the event triggers that keep the walls and derived objects in check
SELECT 'error', e.evtname::text, 'event trigger is missing or disabled: ' || e.unchecked,
	   pg_catalog.format('ALTER EVENT TRIGGER %s ENABLE, or ALTER EXTENSION tenancy UPDATE if it is missing.', e.evtname)
  FROM (VALUES ('tenancy_ddl_start', 'DDL on protected tables goes unchecked'),
			   ('tenancy_ddl_end', 'DDL on protected tables goes unchecked'),
			   ('tenancy_ddl_drop', 'DDL on protected tables goes unchecked'),
			   ('tenancy_drop_extension_guard', 'DROP EXTENSION leaves protected tables without policies'),
			   ('tenancy_ddl_shard_policy', 'policies created on Citus shards go unchecked')) e(evtname, unchecked)
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger t
					WHERE t.evtname = e.evtname AND t.evtenabled = 'O')
UNION ALL
-- application roles and reporting logins that can step out of row
-- security, and reporting logins that can step out of their read-only
-- scope (the conditions bind_reporting_login refuses; one coding:
-- login_risks)
SELECT 'error', r.rolname::text,
	   CASE WHEN l.reporting THEN 'reporting login ' ELSE 'application role ' END || k.risk,
	   CASE WHEN l.reporting
			THEN 'Revoke the attribute or membership, or unbind the login with tenancy.unbind_reporting_login().'
			ELSE 'Use a plain role: row security does not apply to superusers and BYPASSRLS roles, and REPLICATION and the server file and program roles read the data past it.' END
  FROM login l JOIN pg_catalog.pg_roles r ON r.oid = l.roleid
 CROSS JOIN LATERAL @extschema@.login_risks(l.roleid, NOT l.reporting) k
UNION ALL
-- bindings that outlived their role (DROP ROLE knows nothing of them): a
-- session of the dropped role still reads the scope, and a new role given
-- the same OID would
SELECT 'error', l.role::oid::text, 'reporting login binding of a role that no longer exists',
	   pg_catalog.format('SELECT tenancy.unbind_reporting_login(%s);', l.role::oid)
  FROM @extschema@.reporting_login l
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles y WHERE y.oid = l.role::oid)
UNION ALL
-- tables registered as protected that no longer exist: dropped while the
-- event triggers stood aside (session_replication_role = replica), since
-- tenancy_ddl_drop removes the registration otherwise; the next relation
-- given the OID would be taken for protected
SELECT 'error', p.relid::pg_catalog.oid::text, 'registered as protected but the table no longer exists',
	   pg_catalog.format('DELETE FROM tenancy.protected_table WHERE relid = %s;', p.relid::pg_catalog.oid)
  FROM @extschema@.protected_table p
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p.relid::pg_catalog.oid)
UNION ALL
-- application roles that own protected tables
SELECT 'error', p.relid::regclass::text, pg_catalog.format('owned by application role %s', c.relowner::regrole),
	   'Give the table to a separate owner role: an owner changes its grants and its columns.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
 WHERE c.relowner IN (SELECT roleid FROM app_member)
UNION ALL
-- application roles that can become the owner of protected tables (SET
-- ROLE to a role they are a member of), once per owner
SELECT 'error', a.roleid::regrole::text,
	   pg_catalog.format('application role can become role %s, which owns %s protected table(s)',
						 c.relowner::regrole, pg_catalog.count(*)),
	   'Revoke the membership: an owner changes a table''s grants, columns and protection (tenancy.unprotect()).'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
  JOIN app_member a ON a.roleid <> c.relowner AND pg_catalog.pg_has_role(a.roleid, c.relowner, 'MEMBER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles s WHERE s.oid = a.roleid AND s.rolsuper)
 GROUP BY a.roleid, c.relowner
UNION ALL
-- keys out of a protected table into an unprotected one whose rows an
-- application role may delete, update or lock (FOR UPDATE needs UPDATE):
-- the refusal of a DELETE ("is still referenced") and a lock that waits on
-- another firm's open insert tell whether another firm's rows reference a
-- row (1.3 attack, a table of counterparties' IBANs)
SELECT 'warning', c.conrelid::regclass::text,
	   pg_catalog.format('foreign key %s references unprotected table %s, whose rows application roles may delete, update or lock (%s)',
						 c.conname, c.confrelid::regclass,
						 pg_catalog.string_agg(a.roleid::regrole::text, ', ' ORDER BY a.roleid::regrole::text)),
	   'Deleting, updating or locking a referenced row tells whether other firms'' rows reference it: grant application roles only SELECT on the referenced table, or protect it too and reference it with the administration column.'
  FROM pg_catalog.pg_constraint c JOIN protected p ON p.relid = c.conrelid
  JOIN app_member a ON pg_catalog.has_table_privilege(a.roleid, c.confrelid, 'DELETE')
					OR pg_catalog.has_any_column_privilege(a.roleid, c.confrelid, 'UPDATE')
 WHERE c.contype = 'f' AND c.conparentid = 0
   AND c.confrelid NOT IN (SELECT relid FROM protected)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = a.roleid AND r.rolsuper)
 GROUP BY c.oid, c.conrelid, c.conname, c.confrelid
UNION ALL
-- publications of protected tables: a subscriber, or a client of a
-- logical replication slot, receives every firm's rows; row security does
-- not filter what is published
SELECT 'warning', pg_catalog.quote_ident(t.pubname),
	   pg_catalog.format('publication publishes protected table %s', p.relid::regclass),
	   'A subscriber applies no row security to what it receives: publish a protected table only to a database protected the same way, or drop it from the publication (ALTER PUBLICATION ... DROP TABLE).'
  FROM pg_catalog.pg_publication_tables t
  JOIN pg_catalog.pg_namespace n ON n.nspname = t.schemaname
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
  JOIN protected p ON p.relid = c.oid
UNION ALL
-- SECURITY DEFINER functions of a role that bypasses row security (a
-- superuser, BYPASSRLS) that other roles may run: one that reads a
-- protected table gives every caller every firm's rows, also through a
-- view (create_secured_view refuses them).  An error where its body is
-- known to read one (BEGIN ATOMIC, or it returns a protected table's
-- rows); a warning otherwise, since a body given as a string is not
-- followed.  Not the functions of PostgreSQL, tenancy and other extensions.
SELECT CASE WHEN r.relid IS NULL THEN 'warning' ELSE 'error' END, f.oid::pg_catalog.regprocedure::text,
	   CASE WHEN r.relid IS NULL
			THEN pg_catalog.format('SECURITY DEFINER function of role %s, which bypasses row security, may be run by other roles',
								   f.proowner::regrole)
			ELSE pg_catalog.format('SECURITY DEFINER function of role %s, which bypasses row security, reads protected table %s',
								   f.proowner::regrole, r.relid::regclass) END,
	   'It runs as its owner, to whom row security does not apply: whoever calls it, directly or through a view, reads what its owner reads. Make it SECURITY INVOKER, give it to a role that row security applies to, or REVOKE EXECUTE from PUBLIC and grant it only to roles that may read everything.'
  FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_roles o ON o.oid = f.proowner
  LEFT JOIN LATERAL (
	SELECT p.relid FROM protected p
	 WHERE p.relid IN (SELECT d.refobjid FROM pg_catalog.pg_depend d
						WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = f.oid
						  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass)
		OR f.prorettype = (SELECT c.reltype FROM pg_catalog.pg_class c WHERE c.oid = p.relid)
	 ORDER BY p.relid LIMIT 1) r ON true
 WHERE f.prosecdef AND (o.rolsuper OR o.rolbypassrls)
   AND f.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
							  '@extschema@'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
					WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = f.oid
					  AND e.deptype = 'e')
   AND (f.proacl IS NULL
		OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(f.proacl) x
					WHERE x.grantee <> f.proowner AND x.privilege_type = 'EXECUTE'))
UNION ALL
-- roles other than the owner (or a member of the owner's role) that hold
-- TRIGGER on a protected table: only the owner creates a trigger there
-- (ddl.c), but a table protected or attached later keeps the triggers
-- that such a role created before
-- (the grantees in the table's ACL, PUBLIC included: their members hold it
-- through them; asking has_table_privilege of every role took most of
-- check()'s time on a catalog of 10,000 roles, 1.3 review)
SELECT 'warning', p.relid::regclass::text,
	   pg_catalog.format('role %s holds TRIGGER but does not own the table',
						 COALESCE(r.rolname::text, 'PUBLIC')),
	   'REVOKE TRIGGER: a trigger runs in every writer''s session and sees every firm''s rows; review the table''s triggers.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
 CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) g
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = g.grantee
 WHERE g.privilege_type = 'TRIGGER' AND g.grantee <> c.relowner
   AND (g.grantee = 0
		OR (NOT r.rolsuper AND g.grantee NOT IN (SELECT roleid FROM app_role)
			AND NOT pg_catalog.pg_has_role(g.grantee, c.relowner, 'USAGE')))
UNION ALL
-- triggers of a protected table whose function belongs to another role
-- than the table's owner and is not a superuser's: code of someone else's
-- that runs in every writer's session
SELECT 'error', p.relid::regclass::text,
	   pg_catalog.format('trigger %s runs function %s of role %s, who does not own the table',
						 g.tgname, g.tgfoid::pg_catalog.regproc, f.proowner::pg_catalog.regrole),
	   'Drop the trigger, or have the table''s owner create it with a function of its own.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
  JOIN pg_catalog.pg_trigger g ON g.tgrelid = p.relid AND NOT g.tgisinternal
  JOIN pg_catalog.pg_proc f ON f.oid = g.tgfoid
  JOIN pg_catalog.pg_roles o ON o.oid = f.proowner
 WHERE f.pronamespace <> '@extschema@'::regnamespace
   AND NOT o.rolsuper AND NOT pg_catalog.pg_has_role(c.relowner, f.proowner, 'USAGE')
UNION ALL
-- application roles holding TRUNCATE, REFERENCES or TRIGGER
SELECT 'warning', p.relid::regclass::text,
	   pg_catalog.format('application role %s holds %s', a.roleid::regrole, x.priv),
	   CASE x.priv WHEN 'TRUNCATE' THEN 'REVOKE TRUNCATE: it ignores row security (the guard trigger refuses it).'
			WHEN 'TRIGGER' THEN 'REVOKE TRIGGER: a trigger runs in every writer''s session and sees every firm''s rows (the event trigger refuses it to all but the owner).'
			ELSE 'REVOKE REFERENCES: a foreign key reveals which keys exist in other firms.' END
  FROM protected p CROSS JOIN app_role a
  CROSS JOIN (VALUES ('TRUNCATE'), ('REFERENCES'), ('TRIGGER')) x(priv)
  JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
 WHERE NOT r.rolsuper AND pg_catalog.has_table_privilege(a.roleid, p.relid, x.priv)
UNION ALL
-- unique indexes and exclusion constraints without the administration
-- column among their keys (an INCLUDE column does not count), and
-- exclusion constraints that compare it with another operator than "="
SELECT 'error', i.indexrelid::regclass::text,
	   CASE WHEN i.indisexclusion
			THEN 'exclusion constraint on ' || p.relid::regclass::text || ' does not include the administration column'
			ELSE 'unique index on ' || p.relid::regclass::text || ' does not include the administration column' END,
	   pg_catalog.format('Its errors tell one firm that another holds a value; include the administration column: %s (%s%s, %s), and let foreign keys reference that pair.',
			CASE WHEN i.indisexclusion THEN 'EXCLUDE' ELSE 'UNIQUE' END,
			pg_catalog.quote_ident(p.col),
			CASE WHEN i.indisexclusion THEN ' WITH =' ELSE '' END,
			(SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)
			   FROM pg_catalog.generate_series(1, i.indnkeyatts) k
			  WHERE (i.indkey::pg_catalog.int2[])[k - 1] IS DISTINCT FROM
					(SELECT a.attnum FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = p.relid AND a.attname = p.col)))
  FROM protected p JOIN pg_catalog.pg_index i ON i.indrelid = p.relid
 WHERE (i.indisunique OR i.indisexclusion)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.generate_series(0, i.indnkeyatts - 1) k
					 JOIN pg_catalog.pg_attribute a ON a.attrelid = p.relid AND a.attname = p.col
					WHERE (i.indkey::pg_catalog.int2[])[k] = a.attnum
					  AND (NOT i.indisexclusion
						   OR (SELECT o.oprname FROM pg_catalog.pg_constraint x
								 JOIN pg_catalog.pg_operator o ON o.oid = x.conexclop[k + 1]
								WHERE x.conindid = i.indexrelid AND x.contype = 'x') = '='))
UNION ALL
-- other indexes not led by the administration column: PostgreSQL scans one
-- across every firm's entries, for a leakproof condition on its columns or
-- in its order (ORDER BY, min/max; a condition on the administration
-- column further in is then left to the filter), with the policies as a
-- filter, and how many entries it passed shows in EXPLAIN ANALYZE and the
-- statistics counters: with a row of its own placed at a chosen value, a
-- user ranks it among every firm's and rebuilds their values one character
-- at a time (R6; 1.3's last attack, over an index of lower(reference)).
-- Not the unique indexes and exclusion constraints reported as errors
-- above, and an index partition only through its parent's index.
-- An index of another access method than btree counts every firm's
-- entries even when led by the administration column: the planner hook
-- bounds only btree scans by the identity's administrations (planner.c).
SELECT 'warning', i.indexrelid::regclass::text,
	   CASE WHEN (i.indkey::pg_catalog.int2[])[0] IS DISTINCT FROM c.attnum
			THEN 'index on ' || p.relid::regclass::text || ' is not led by the administration column'
			ELSE pg_catalog.format('%s index on %s is not bounded by the identity''s administrations',
								   am.amname, p.relid::regclass) END,
	   CASE WHEN (i.indkey::pg_catalog.int2[])[0] IS NOT DISTINCT FROM c.attnum
			THEN pg_catalog.format('tenancy bounds only btree scans by the identity''s administrations: a scan of this %s index passes other firms'' entries, and EXPLAIN ANALYZE and the statistics counters show how many of every firm''s rows a search by it matched. Where its values are secret, drop it, or replace it with a btree index led by the administration column.', am.amname)
			WHEN am.amname = 'btree'
			THEN pg_catalog.format('A scan of it passes other firms'' entries, and EXPLAIN ANALYZE and the statistics counters show how many: searched or read in its order (ORDER BY %s), it ranks a user''s rows among every firm''s. Where its values are secret, lead it with the administration column: (%s%s)%s.',
					k.cols, pg_catalog.quote_ident(p.col), COALESCE(', ' || k.others, ''),
					COALESCE(' WHERE ' || pg_catalog.pg_get_expr(i.indpred, i.indrelid, true), ''))
			WHEN am.amname = 'hash'
			THEN 'A scan of it passes other firms'' entries, and EXPLAIN ANALYZE and the statistics counters show how many of every firm''s rows a search by it matched. Where its values are secret, drop it, or replace it with a btree index led by the administration column (a hash index takes one column).'
			ELSE pg_catalog.format('A scan of this %s index passes other firms'' entries, and EXPLAIN ANALYZE and the statistics counters show how many of every firm''s rows a search by it matched. Where its values are secret, drop it, or replace it with a btree index led by the administration column.', am.amname) END
  FROM protected p JOIN pg_catalog.pg_index i ON i.indrelid = p.relid
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_am am ON am.oid = ic.relam
  CROSS JOIN LATERAL (
	SELECT a.attnum FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid = p.relid AND a.attname = p.col) c
  CROSS JOIN LATERAL (
	SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, n, true), ', ' ORDER BY n) AS cols,
		   pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, n, true), ', ' ORDER BY n)
			 FILTER (WHERE (i.indkey::pg_catalog.int2[])[n - 1] IS DISTINCT FROM c.attnum) AS others,
		   pg_catalog.bool_or((i.indkey::pg_catalog.int2[])[n - 1] = c.attnum) AS has_column
	  FROM pg_catalog.generate_series(1, i.indnkeyatts) n) k
 WHERE ((i.indkey::pg_catalog.int2[])[0] IS DISTINCT FROM c.attnum OR am.amname <> 'btree')
   AND NOT ((i.indisunique OR i.indisexclusion) AND NOT k.has_column)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
UNION ALL
-- permissions that name another compartment than their administration's or
-- their user's: written with the catalog's trigger and foreign keys off (a
-- restore, session_replication_role = replica).  The rights cache takes a
-- permission's compartment for its administration's (R6; visibility.c,
-- probe_rights), so such a row could open a wall
SELECT 'error', '@extschema@.permission'::pg_catalog.regclass::pg_catalog.text,
	   pg_catalog.format('permission of user %s on administration %s names compartment %s; the administration is %s, the user %s',
			p.user_id, p.administration_id, p.compartment_id,
			COALESCE('in ' || a.compartment_id, 'missing'), COALESCE('in ' || u.compartment_id, 'missing')),
	   'It was written with the catalog''s triggers or foreign keys off: delete it, and grant the right again with tenancy.grant_rights().'
  FROM @extschema@.permission p
  LEFT JOIN @extschema@.administration a ON a.id = p.administration_id
  LEFT JOIN @extschema@.users u ON u.id = p.user_id
 WHERE a.compartment_id IS DISTINCT FROM p.compartment_id
	OR u.compartment_id IS DISTINCT FROM p.compartment_id
UNION ALL
-- views, materialized views and rules that read protected tables past
-- their walls; foreign keys that act as oracles (one coding: derived_problems)
SELECT 'error', d.object, d.problem, d.hint
  FROM @extschema@.derived_problems(NULL::pg_catalog.oid[]) d
 ORDER BY 1, 2, 3
$check$;
COMMENT ON FUNCTION @extschema@.check() IS
	'holes in the protection: unprotected tables, partitions and children, altered walls, disabled event triggers, risky roles and reporting logins, leaking keys and indexes, views, rules, materialized views and foreign keys, permissions written past the catalog''s foreign keys (R6, R23, R24)';

/* ------------------------------------------------------------------
 * Pooled connections: cursors, temporary tables and session-level
 * act_as behind transaction pooling (R4, R24), identity.c
 * ------------------------------------------------------------------ */
-- Nothing in SQL: the setting tenancy.local_identity_only and the checks
-- of cursors and temporary tables (session.c) live in the library.

/* ------------------------------------------------------------------
 * Entry points, users and reporting logins (R3, R12, R13, R14)
 * ------------------------------------------------------------------ */

-- enable_user: undoes disable_user; same callers (manage.c)
CREATE FUNCTION @extschema@.enable_user(user_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_enable_user' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.enable_user(bigint) IS
	'undo disable_user: the user can be acted as again (platform operators, administrators of the compartment)';
REVOKE ALL ON FUNCTION @extschema@.enable_user(bigint) FROM PUBLIC;
-- operators manage every compartment
GRANT EXECUTE ON FUNCTION @extschema@.enable_user(bigint) TO tenancy_admin;
-- application servers call it for a compartment administrator they act as
GRANT EXECUTE ON FUNCTION @extschema@.enable_user(bigint) TO tenancy_app;

COMMENT ON FUNCTION @extschema@.disable_user(bigint) IS
	'the user can no longer be acted as, and its sessions lose their rows at the next statement; an administrator cannot disable itself; undone by enable_user';

/*
 * The guard trigger of protected tables fires on DELETE too (R12 for
 * everyone, and a REPEATABLE READ deleter whose snapshot predates a
 * transfer, R6): tables protected before 1.3 get the trigger as protect()
 * now creates it, on the leaves where row triggers fire.
 */
DO $guard$
DECLARE
	t record;
BEGIN
	FOR t IN
		SELECT p.relid, p.administration_column
		  FROM @extschema@.protected_table p
		  JOIN pg_catalog.pg_trigger g ON g.tgrelid OPERATOR(pg_catalog.=) p.relid
		   AND g.tgname OPERATOR(pg_catalog.=) 'tenancy_guard'
		 ORDER BY p.relid
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE OR REPLACE TRIGGER tenancy_guard BEFORE INSERT OR UPDATE OR DELETE ON %s'
			' FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_row(%L)',
			t.relid::pg_catalog.regclass, t.administration_column);
	END LOOP;
END
$guard$;

/*
 * Codes are unique case-insensitively within their scope (R10): "k1" beside
 * "K1" reads as the same client.  Existing look-alikes would make the
 * unique indexes fail half-way; they are listed first, with addresses that
 * the stricter e-mail check refuses, and the update stops before anything
 * changed.
 */
DO $codes$
DECLARE
	dup text;
BEGIN
	SELECT pg_catalog.string_agg(x.what, '; ' ORDER BY x.what COLLATE "C") INTO dup
	  FROM (SELECT 'compartments ' || pg_catalog.string_agg(c.code, ', ' ORDER BY c.code COLLATE "C") AS what
			  FROM @extschema@.compartment c
			 GROUP BY pg_catalog.lower(c.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			SELECT 'clients of compartment ' || c.compartment_id || ': '
				   || pg_catalog.string_agg(c.code, ', ' ORDER BY c.code COLLATE "C")
			  FROM @extschema@.client c
			 GROUP BY c.compartment_id, pg_catalog.lower(c.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			SELECT 'administrations of compartment ' || a.compartment_id || ': '
				   || pg_catalog.string_agg(a.code, ', ' ORDER BY a.code COLLATE "C")
			  FROM @extschema@.administration a
			 GROUP BY a.compartment_id, pg_catalog.lower(a.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			-- e-mail addresses that 1.3 refuses (not ASCII, not one address):
			-- the CHECK of account.email would refuse them at the next
			-- restore of a dump
			SELECT 'e-mail addresses ' || pg_catalog.string_agg(e.email, ', ' ORDER BY e.email COLLATE "C")
			  FROM @extschema@.account e
			 WHERE NOT @extschema@.email_is_valid(e.email)
			HAVING pg_catalog.count(*) > 0) x;
	IF dup IS NOT NULL THEN
		RAISE EXCEPTION 'look-alike codes or invalid e-mail addresses: %', dup
			USING ERRCODE = '23505',
				  DETAIL = 'From 1.3 on, codes are unique case-insensitively within their scope, and e-mail addresses are one plain ASCII address.',
				  HINT = 'Change one code of each pair and correct the addresses (UPDATE ... SET ...) as the extension owner, then run ALTER EXTENSION tenancy UPDATE again.';
	END IF;
END
$codes$;
CREATE UNIQUE INDEX compartment_code_lower_key
	ON @extschema@.compartment (pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.compartment_code_lower_key IS
	'compartment codes are unique in the database, case-insensitively (R10)';
CREATE UNIQUE INDEX client_code_lower_key
	ON @extschema@.client (compartment_id, pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.client_code_lower_key IS
	'client codes are unique in their compartment, case-insensitively (R10)';
CREATE UNIQUE INDEX administration_code_lower_key
	ON @extschema@.administration (compartment_id, pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.administration_code_lower_key IS
	'administration codes are unique in their compartment, case-insensitively (R10)';

/* ------------------------------------------------------------------
 * The visibility cache holds many identities (visibility.c)
 * ------------------------------------------------------------------ */

-- the archive rule probes completed migrations by administration
CREATE INDEX migration_administration_idx ON @extschema@.migration (administration_id);
-- the administrations that are not active, by compartment: one descent
-- tells the cache that a compartment's are all active, and the state of an
-- administration its user holds a permission on is then known without
-- reading its row (R12; visibility.c, probe_rights)
CREATE INDEX administration_not_active_idx
	ON @extschema@.administration (compartment_id) WHERE state <> 'active';
COMMENT ON INDEX @extschema@.administration_not_active_idx IS
	'administrations archived or deleted, by compartment: the visibility cache''s probe of whether all of a compartment''s are active (R12)';

CREATE FUNCTION @extschema@.cache_statistics(
	OUT identities bigint, OUT complete_identities bigint, OUT entries bigint,
	OUT administrations bigint, OUT probes bigint, OUT complete_loads bigint,
	OUT compartments_forgotten bigint, OUT flushes bigint, OUT compartments bigint)
	AS 'MODULE_PATHNAME', 'tenancy_cache_statistics'
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.cache_statistics() IS
'this backend''s visibility cache: identities held (complete ones hold every right), rights entries, administrations known, and since the backend started: one-administration probes, complete loads, compartments forgotten after a change, whole flushes; and the compartments it holds something of';
REVOKE ALL ON FUNCTION @extschema@.cache_statistics() FROM PUBLIC;
-- operators size tenancy.cache_entries with it
GRANT EXECUTE ON FUNCTION @extschema@.cache_statistics() TO tenancy_admin;

-- The planner's index condition for row_readable and row_writable
-- (planner.c): the same list as visible_administrations, VOLATILE so that
-- the planner does not compute it while it estimates (a list of 20,000 ids
-- cost 27 ms of planning per statement, one of 3 ids 0.03 ms); the executor
-- computes it once per index scan, as it does for a stable function.
CREATE FUNCTION @extschema@.visible_administrations_at_scan(rights text) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'tenancy_visible_administrations'
	LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.visible_administrations_at_scan(text) IS
	'visible_administrations(rights), computed when an index scan starts, never by the planner: the index condition of the read and write checks (R7)';
GRANT EXECUTE ON FUNCTION @extschema@.visible_administrations_at_scan(text) TO PUBLIC;

-- The index condition of a query that names one administration
-- (planner.c): "col = x" becomes "col = visible_administration(x, right)",
-- which the executor evaluates when an index scan starts instead of calling
-- the check on every row; the id when the identity holds the right, NULL
-- (no row) otherwise.  Not LEAKPROOF: an unknown or null right is an error
-- that depends on the argument, and a leakproof function would run before
-- the policies on rows the identity may not read.
CREATE FUNCTION @extschema@.visible_administration(administration_id bigint, rights text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_visible_administration'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.visible_administration(bigint, text) IS
	'the administration''s id when the current identity holds the right on it, otherwise NULL: the index condition of a query that names one administration (R7)';
GRANT EXECUTE ON FUNCTION @extschema@.visible_administration(bigint, text) TO PUBLIC;

/* ------------------------------------------------------------------
 * Audit log: who, when, order, anchor (R22), audit.c
 * ------------------------------------------------------------------ */

-- who: the login (session user) beside the role; the format of each
-- entry's hash: 1 for the entries 1.0 to 1.2 wrote (they keep verifying
-- with audit_hash), 2 from this version on (audit_hash_v2); the writer
-- (audit.c) always names it
ALTER TABLE @extschema@.audit_entry
	ADD COLUMN login name,
	ADD COLUMN hash_version smallint NOT NULL DEFAULT 1
		CONSTRAINT audit_entry_hash_version_check CHECK (hash_version IN (1, 2)),
	ADD CONSTRAINT audit_entry_login_check CHECK (hash_version = 1 OR login IS NOT NULL);
ALTER TABLE @extschema@.audit_entry ALTER COLUMN hash_version DROP DEFAULT;
COMMENT ON COLUMN @extschema@.audit_entry.at IS
	'when the change was made (clock time, not the transaction''s start); never earlier than the previous entry''s';
COMMENT ON COLUMN @extschema@.audit_entry.db_role IS
	'the current role outside the extension''s elevation (after SET ROLE, the role set)';
COMMENT ON COLUMN @extschema@.audit_entry.login IS
	'the session user: the login that connected (NULL in entries written before 1.3)';
COMMENT ON COLUMN @extschema@.audit_entry.hash_version IS
	'the formula of hash: 1 = audit_hash (entries written by 1.0 to 1.2), 2 = audit_hash_v2';

CREATE FUNCTION @extschema@.audit_hash_v2(id bigint, prev_hash bytea, at timestamptz,
	db_role name, login name, account_id bigint, user_id bigint, compartment_id bigint,
	action text, object_type text, object_id text, before jsonb, after jsonb) RETURNS bytea
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	-- one JSON array of every field: strings escaped, NULL spelled null, the
	-- time in UTC whatever the session's TimeZone, before and after as
	-- their canonical jsonb text (so that SQL NULL and JSON null differ).
	-- IMMUTABLE although jsonb_build_array and to_char are only STABLE:
	-- every argument reaches them as text or bigint, and the time through a
	-- fixed pattern, so no setting changes the result.
	SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
		'tenancy audit entry v2', $1, pg_catalog.encode($2, 'hex'),
		pg_catalog.to_char($3 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		$4::text, $5::text, $6, $7, $8, $9, $10, $11, $12::text, $13::text)::text, 'UTF8'))
$$;
COMMENT ON FUNCTION @extschema@.audit_hash_v2(bigint, bytea, timestamptz, name, name, bigint, bigint, bigint, text, text, text, jsonb, jsonb) IS
	'hash of one audit entry (format 2): every field, its id and the previous entry''s hash, unambiguously encoded (R22)';

-- A copy of an entry written for the other party of a change leaves out
-- what that party may not see (audit.c, withheld_columns): the target's
-- copy of a migration shows neither the source's client, nor whether that
-- client had a user able to approve, nor who requested it (the migrations
-- view shows none of them to the target, R16; neither copy names the
-- requester: the entry's user_id does, in the requester's own log); the owner's
-- copy of a delegation does not show the delegate's compartment (R20: the
-- owner learns the delegate's id only)
DROP TRIGGER audit ON @extschema@.migration;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration', 'source_compartment_id', '',
		'requested_by');
DROP TRIGGER audit_target ON @extschema@.migration;
CREATE TRIGGER audit_target AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration', 'target_compartment_id', '',
		'source_client_id,client_approver_at_request,requested_by');
-- and the move of the archive (transfer_migration) is logged in the
-- target's log without the source's client in the row before
DROP TRIGGER audit ON @extschema@.administration;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.administration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('administration', 'compartment_id', '',
		'', '', 'client_id');
DROP TRIGGER audit ON @extschema@.delegation;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.delegation
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('delegation', 'compartment_id', 'to_compartment_id',
		'to_compartment_id', '');

-- R21, R20: a delegation is given, revoked and ended only through the
-- functions (delegation.c); the guard refuses every other INSERT, UPDATE
-- and DELETE, the table owner's included, as migration_guard does for the
-- migration tables (triggers.c).  Until 1.3 the owner could revive a
-- revoked delegation or move its end date (1.3 attack).
CREATE FUNCTION @extschema@.delegation_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_delegation_guard' LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.delegation_guard() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.delegation_guard() IS
	'trigger on tenancy.delegation: refuses writes other than the delegation functions'' (R21)';
CREATE TRIGGER delegation_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.delegation
	FOR EACH ROW EXECUTE FUNCTION @extschema@.delegation_guard();

-- the view shows the login too (a new last column)
-- Two branches, each scanned only for its readers (the role test is a
-- one-time filter): operators read every entry, and a condition of theirs
-- may use the indexes; a firm's own staff read their compartment's entries
-- through a fence (OFFSET 0), so that a condition of theirs is never an
-- index condition over other firms' entries, whose EXPLAIN ANALYZE counts
-- told any login how many entries each firm writes (1.3 attack).
CREATE OR REPLACE VIEW @extschema@.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.db_role, e.account_id, e.user_id, e.compartment_id,
		   e.action, e.object_type, e.object_id, e.before, e.after, e.login
	  FROM @extschema@.audit_entry e
	 WHERE pg_catalog.pg_has_role(CURRENT_USER, 'tenancy_admin', 'MEMBER')
	UNION ALL
	SELECT f.id, f.at, f.db_role, f.account_id, f.user_id, f.compartment_id,
		   f.action, f.object_type, f.object_id, f.before, f.after, f.login
	  FROM (SELECT e.*
			  FROM @extschema@.audit_entry e
			 WHERE NOT pg_catalog.pg_has_role(CURRENT_USER, 'tenancy_admin', 'MEMBER')
			   AND e.compartment_id OPERATOR(pg_catalog.=) @extschema@.current_compartment_id()
			   -- the firm's own staff: an external user does not read other
			   -- clients' changes, a disabled user nothing (R2)
			   AND EXISTS (SELECT 1 FROM @extschema@.users u
							WHERE u.id OPERATOR(pg_catalog.=) @extschema@.current_user_id()
							  AND u.kind OPERATOR(pg_catalog.=) 'internal'
							  AND NOT u.disabled)
			OFFSET 0) f;

-- the walk of the chain moves to C (audit.c), with one formula per format
CREATE OR REPLACE FUNCTION @extschema@.verify_audit() RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_verify_audit'
	LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.verify_audit() IS
	'walks the audit chain; returns ok, or names the first entry whose hash or link is broken (R22)';

CREATE FUNCTION @extschema@.verify_audit(expected_head_id bigint, expected_hash text) RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_verify_audit'
	LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.verify_audit(bigint, text) IS
	'walks the audit chain and checks it against a head published earlier by audit_head(): finds a log cut back or rewritten (R22)';
-- anyone may check the chain; the answer names at most an entry number
REVOKE ALL ON FUNCTION @extschema@.verify_audit(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit(bigint, text) TO PUBLIC;

CREATE FUNCTION @extschema@.audit_head(OUT id bigint, OUT hash text, OUT entries bigint)
	RETURNS record
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT h.id, pg_catalog.encode(h.hash, 'hex'),
		   (SELECT pg_catalog.count(*) FROM @extschema@.audit_entry)
	  FROM (SELECT 1) one
	  LEFT JOIN LATERAL (SELECT e.id, e.hash FROM @extschema@.audit_entry e
						  ORDER BY e.id DESC LIMIT 1) h ON true
$$;
COMMENT ON FUNCTION @extschema@.audit_head() IS
	'the audit chain''s last entry (id, hash) and its number of entries, to publish outside the database and check later with verify_audit(id, hash) (R22)';
-- platform operators publish the head; nobody else reads the whole log
REVOKE ALL ON FUNCTION @extschema@.audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_head() TO tenancy_admin;

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */

-- find_user: how an application server maps its logged-in person to the
-- user id it passes to act_as (directory.c)
CREATE FUNCTION @extschema@.find_user(compartment_id bigint, email text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_find_user'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.find_user(bigint, text) IS
	'the id of the user with that e-mail address (trimmed, case-insensitive) in that compartment, or NULL; for tenancy_app, tenancy_admin and the compartment''s administrators (R10, R13)';
REVOKE ALL ON FUNCTION @extschema@.find_user(bigint, text) FROM PUBLIC;
-- the function checks its caller (tenancy_app, tenancy_admin, or a session
-- acting as an administrator of that compartment) before it looks anything up
GRANT EXECUTE ON FUNCTION @extschema@.find_user(bigint, text) TO PUBLIC;

CREATE FUNCTION @extschema@.compartment_users_rows()
	RETURNS TABLE (user_id bigint, compartment_id bigint, email text, kind text,
				   client_id bigint, client_code text, is_admin boolean,
				   disabled boolean)
	AS 'MODULE_PATHNAME', 'tenancy_compartment_users'
	LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION @extschema@.compartment_users_rows() IS
	'the rows of view tenancy.compartment_users: the acting administrator''s compartment, every compartment for tenancy_admin, nothing for anyone else (R13)';
-- it answers for its caller only
GRANT EXECUTE ON FUNCTION @extschema@.compartment_users_rows() TO PUBLIC;

CREATE VIEW @extschema@.compartment_users WITH (security_barrier) AS
	SELECT r.user_id, r.compartment_id, r.email, r.kind, r.client_id,
		   r.client_code, r.is_admin, r.disabled
	  FROM @extschema@.compartment_users_rows() r;
COMMENT ON VIEW @extschema@.compartment_users IS
	'the users of the acting administrator''s compartment (all compartments for tenancy_admin): for an administrator''s screen (R13)';
-- only these can get rows from it: application servers acting as an
-- administrator, and platform operators; nobody else (a reporting login,
-- say) is offered a view that is always empty
GRANT SELECT ON @extschema@.compartment_users TO tenancy_app, tenancy_admin;

-- A clean way out: DROP EXTENSION (or DROP SCHEMA tenancy) is refused while
-- tables are protected, since it would leave them with row security forced
-- and no policy (uninstall.c)
CREATE FUNCTION @extschema@.drop_extension_guard() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'tenancy_drop_extension_guard'
	LANGUAGE C;
COMMENT ON FUNCTION @extschema@.drop_extension_guard() IS
	'event trigger: refuses DROP EXTENSION tenancy while tables are protected; unprotect them first';
REVOKE ALL ON FUNCTION @extschema@.drop_extension_guard() FROM PUBLIC;
CREATE EVENT TRIGGER tenancy_drop_extension_guard ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
	EXECUTE FUNCTION @extschema@.drop_extension_guard();
COMMENT ON EVENT TRIGGER tenancy_drop_extension_guard IS
	'refuses DROP EXTENSION tenancy while tables are protected';

-- A restore without session_replication_role = replica fails loudly: a COPY
-- into a catalog table is refused, instead of logging the restore into the
-- audit log and colliding with the restored entries (restore.c)
CREATE FUNCTION @extschema@.restore_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_restore_guard'
	LANGUAGE C;
COMMENT ON FUNCTION @extschema@.restore_guard() IS
	'trigger on the catalog tables: refuses COPY into them outside session_replication_role = replica (a restore that would audit itself)';
-- nobody attaches it to a table of their own (it checks its table, too)
REVOKE ALL ON FUNCTION @extschema@.restore_guard() FROM PUBLIC;
DO $guard$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['subscription', 'compartment', 'client',
		'administration', 'account', 'users', 'permission', 'protected_table',
		'audit_entry', 'reporting_login', 'delegation', 'migration',
		'migration_approval', 'migration_history']
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE TRIGGER restore_guard BEFORE INSERT ON @extschema@.%I'
			' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.restore_guard()', t);
	END LOOP;
END
$guard$;

-- A registration that outlived its table or role names a bare OID, which
-- pg_dump writes as a number and a restore resolves to whatever relation or
-- role holds that number in the new database: a dropped reporting login's
-- binding would give its firm's scope to a stranger.  The event trigger
-- tenancy_ddl_drop removes a dropped table's registration; DROP ROLE fires
-- no event trigger, so check() reports a binding of a dropped role, and
-- pg_dump leaves out both kinds of row (the filter is part of its COPY).
DELETE FROM @extschema@.protected_table p
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = p.relid::pg_catalog.oid);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.protected_table',
	'WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = relid::pg_catalog.oid)');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reporting_login',
	'WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = role::pg_catalog.oid)');



-- \d+ in psql: a comment on every column of the extension's tables and
-- views and on every sequence
COMMENT ON COLUMN @extschema@.subscription.id IS 'subscription id';
COMMENT ON COLUMN @extschema@.subscription.name IS 'the firm''s name on the contract';
COMMENT ON COLUMN @extschema@.compartment.id IS 'compartment id';
COMMENT ON COLUMN @extschema@.compartment.subscription_id IS 'the subscription it belongs to';
COMMENT ON COLUMN @extschema@.compartment.code IS 'code, unique in the database (letters, digits, "_", "-", ".")';
COMMENT ON COLUMN @extschema@.compartment.name IS 'display name';
COMMENT ON COLUMN @extschema@.compartment.allow_external_users IS 'false: no external (client) users may be added to it (R10)';
COMMENT ON COLUMN @extschema@.client.id IS 'client id';
COMMENT ON COLUMN @extschema@.client.compartment_id IS 'the compartment it belongs to';
COMMENT ON COLUMN @extschema@.client.code IS 'code, unique in its compartment';
COMMENT ON COLUMN @extschema@.client.name IS 'display name';
COMMENT ON COLUMN @extschema@.administration.id IS 'administration id: the value protected tables carry in their administration column';
COMMENT ON COLUMN @extschema@.administration.compartment_id IS 'the compartment it belongs to (R6)';
COMMENT ON COLUMN @extschema@.administration.client_id IS 'the client it belongs to (R8, R9, R11)';
COMMENT ON COLUMN @extschema@.administration.code IS 'code, unique in its compartment';
COMMENT ON COLUMN @extschema@.administration.name IS 'display name';
COMMENT ON COLUMN @extschema@.administration.state IS 'active, archived (read-only, R12) or deleted (its rows are gone)';
COMMENT ON COLUMN @extschema@.account.id IS 'account id: one person';
COMMENT ON COLUMN @extschema@.account.email IS 'e-mail address, trimmed; unique case-insensitively (R10)';
COMMENT ON COLUMN @extschema@.users.id IS 'user id: what act_as and act_as_local take';
COMMENT ON COLUMN @extschema@.users.compartment_id IS 'the compartment of this membership';
COMMENT ON COLUMN @extschema@.users.account_id IS 'the person (one user per account and compartment, R10)';
COMMENT ON COLUMN @extschema@.users.kind IS 'internal (staff of the firm) or external (belongs to client_id)';
COMMENT ON COLUMN @extschema@.users.client_id IS 'for an external user, its client (R8); NULL for internal users';
COMMENT ON COLUMN @extschema@.users.is_admin IS 'administrator of the compartment (internal users only, R13)';
COMMENT ON COLUMN @extschema@.users.disabled IS 'cannot be acted as; its sessions see no rows';
COMMENT ON COLUMN @extschema@.permission.user_id IS 'the user holding the rights';
COMMENT ON COLUMN @extschema@.permission.administration_id IS 'the administration they apply to';
COMMENT ON COLUMN @extschema@.permission.compartment_id IS 'derived: the compartment of both user and administration (R6)';
COMMENT ON COLUMN @extschema@.permission.user_client_id IS 'derived: the external user''s client, tying the administration to it (R8)';
COMMENT ON COLUMN @extschema@.permission.can_read IS 'right read: see the administration''s rows (R7)';
COMMENT ON COLUMN @extschema@.permission.can_write IS 'right write: insert, update and delete its rows (R7)';
COMMENT ON COLUMN @extschema@.permission.can_submit IS 'right submit: send documents in';
COMMENT ON COLUMN @extschema@.permission.can_manage IS 'right manage: approve a migration for the client (R17)';
COMMENT ON COLUMN @extschema@.protected_table.relid IS 'the protected application table';
COMMENT ON COLUMN @extschema@.protected_table.administration_column IS 'its column holding the administration id';
COMMENT ON COLUMN @extschema@.protected_table.carry_on_migration IS 'false: its rows of an administration are removed when it migrates (R18)';
COMMENT ON COLUMN @extschema@.protected_table.protected_at IS 'when protect() was last called on it';
COMMENT ON COLUMN @extschema@.audit_entry.id IS 'entry number, ascending in the chain';
COMMENT ON COLUMN @extschema@.audit_entry.account_id IS 'the account acted as, if any';
COMMENT ON COLUMN @extschema@.audit_entry.user_id IS 'the user acted as, if any';
COMMENT ON COLUMN @extschema@.audit_entry.compartment_id IS 'the compartment the change belongs to (who may read the entry, R22)';
COMMENT ON COLUMN @extschema@.audit_entry.action IS 'insert, update or delete';
COMMENT ON COLUMN @extschema@.audit_entry.object_type IS 'the catalog table changed';
COMMENT ON COLUMN @extschema@.audit_entry.object_id IS 'the key of the changed row';
COMMENT ON COLUMN @extschema@.audit_entry.before IS 'the row before the change (jsonb), NULL for an insert';
COMMENT ON COLUMN @extschema@.audit_entry.after IS 'the row after the change (jsonb), NULL for a delete';
COMMENT ON COLUMN @extschema@.audit_entry.prev_hash IS 'the hash of the previous entry (the chain''s link)';
COMMENT ON COLUMN @extschema@.audit_entry.hash IS 'sha256 over this entry and prev_hash, in the formula hash_version names (verify_audit recomputes it)';
COMMENT ON COLUMN @extschema@.reporting_login.role IS 'the bound login role (R14)';
COMMENT ON COLUMN @extschema@.reporting_login.compartment_id IS 'its compartment; alone, a firm-wide scope (R15)';
COMMENT ON COLUMN @extschema@.reporting_login.client_id IS 'optionally, the one client it sees';
COMMENT ON COLUMN @extschema@.reporting_login.administration_codes IS 'optionally, the codes of the administrations it sees';
COMMENT ON COLUMN @extschema@.delegation.id IS 'delegation id (revoke_delegation takes it)';
COMMENT ON COLUMN @extschema@.delegation.administration_id IS 'the delegated administration';
COMMENT ON COLUMN @extschema@.delegation.compartment_id IS 'the compartment that owns it and delegates (R20)';
COMMENT ON COLUMN @extschema@.delegation.to_user_id IS 'the user of another compartment who receives the rights';
COMMENT ON COLUMN @extschema@.delegation.to_compartment_id IS 'that user''s compartment';
COMMENT ON COLUMN @extschema@.delegation.can_read IS 'delegated right read';
COMMENT ON COLUMN @extschema@.delegation.can_write IS 'delegated right write';
COMMENT ON COLUMN @extschema@.delegation.can_submit IS 'delegated right submit';
COMMENT ON COLUMN @extschema@.delegation.can_manage IS 'delegated right manage';
COMMENT ON COLUMN @extschema@.delegation.valid_until IS 'end of the delegation, at most 12 months after created_at';
COMMENT ON COLUMN @extschema@.delegation.created_at IS 'when it was given';
COMMENT ON COLUMN @extschema@.delegation.revoked_at IS 'when it was revoked, or NULL';
COMMENT ON COLUMN @extschema@.migration.id IS 'migration id';
COMMENT ON COLUMN @extschema@.migration.administration_id IS 'the administration that changes firm (R16)';
COMMENT ON COLUMN @extschema@.migration.scenario IS 'archive_and_transfer (R18) or export_and_delete (R19)';
COMMENT ON COLUMN @extschema@.migration.state IS 'requested, approved, exported, deleted_at_source, completed, rejected or cancelled';
COMMENT ON COLUMN @extschema@.migration.source_compartment_id IS 'the compartment it leaves';
COMMENT ON COLUMN @extschema@.migration.source_client_id IS 'its client at the source';
COMMENT ON COLUMN @extschema@.migration.target_compartment_id IS 'the compartment it goes to';
COMMENT ON COLUMN @extschema@.migration.target_client_id IS 'its client at the target, once chosen';
COMMENT ON COLUMN @extschema@.migration.successor_id IS 'the new active administration at the target';
COMMENT ON COLUMN @extschema@.migration.requested_by IS 'the user who requested it';
COMMENT ON COLUMN @extschema@.migration.requesting_compartment_id IS 'the requester''s compartment (source or target)';
COMMENT ON COLUMN @extschema@.migration.reason IS 'why it was rejected';
COMMENT ON COLUMN @extschema@.migration.report IS 'what the transfer or deletion did (rows removed per table, renamed code)';
COMMENT ON COLUMN @extschema@.migration.client_approver_at_request IS 'the client had a user able to approve when it was requested: consent on paper is then refused (R17)';
COMMENT ON COLUMN @extschema@.migration.requested_at IS 'when it was requested';
COMMENT ON COLUMN @extschema@.migration.updated_at IS 'when its state last changed';
COMMENT ON COLUMN @extschema@.migration_approval.id IS 'approval id';
COMMENT ON COLUMN @extschema@.migration_approval.migration_id IS 'the migration approved';
COMMENT ON COLUMN @extschema@.migration_approval.party IS 'source, client or target (R17)';
COMMENT ON COLUMN @extschema@.migration_approval.compartment_id IS 'the approver''s compartment';
COMMENT ON COLUMN @extschema@.migration_approval.user_id IS 'the approving user';
COMMENT ON COLUMN @extschema@.migration_approval.account_id IS 'the approving person (one account never approves for two parties)';
COMMENT ON COLUMN @extschema@.migration_approval.consent_reference IS 'for the client party without a user: the reference of its written consent';
COMMENT ON COLUMN @extschema@.migration_approval.approved_at IS 'when it was approved';
COMMENT ON COLUMN @extschema@.migration_history.id IS 'history entry id';
COMMENT ON COLUMN @extschema@.migration_history.migration_id IS 'the migration';
COMMENT ON COLUMN @extschema@.migration_history.step IS 'the function that took the step';
COMMENT ON COLUMN @extschema@.migration_history.from_state IS 'the state before the step';
COMMENT ON COLUMN @extschema@.migration_history.to_state IS 'the state after the step';
COMMENT ON COLUMN @extschema@.migration_history.party IS 'the party that took it';
COMMENT ON COLUMN @extschema@.migration_history.compartment_id IS 'the compartment of the user who took it';
COMMENT ON COLUMN @extschema@.migration_history.user_id IS 'the user who took it';
COMMENT ON COLUMN @extschema@.migration_history.account_id IS 'the person who took it';
COMMENT ON COLUMN @extschema@.migration_history.db_role IS 'the database role that took it';
COMMENT ON COLUMN @extschema@.migration_history.detail IS 'details of the step (jsonb)';
COMMENT ON COLUMN @extschema@.migration_history.at IS 'when it was taken';
COMMENT ON COLUMN @extschema@.audit_log.id IS 'entry number, ascending in the chain';
COMMENT ON COLUMN @extschema@.audit_log.at IS 'when the change was made (the clock at the change, never earlier than the previous entry)';
COMMENT ON COLUMN @extschema@.audit_log.db_role IS 'the current role that made it, outside the extension''s own elevation';
COMMENT ON COLUMN @extschema@.audit_log.login IS 'the session user: the login that connected (NULL in entries written before 1.3)';
COMMENT ON COLUMN @extschema@.audit_log.account_id IS 'the account acted as, if any';
COMMENT ON COLUMN @extschema@.audit_log.user_id IS 'the user acted as, if any';
COMMENT ON COLUMN @extschema@.audit_log.compartment_id IS 'the compartment the change belongs to (who may read the entry, R22)';
COMMENT ON COLUMN @extschema@.audit_log.action IS 'insert, update or delete';
COMMENT ON COLUMN @extschema@.audit_log.object_type IS 'the catalog table changed';
COMMENT ON COLUMN @extschema@.audit_log.object_id IS 'the key of the changed row';
COMMENT ON COLUMN @extschema@.audit_log.before IS 'the row before the change (jsonb), NULL for an insert';
COMMENT ON COLUMN @extschema@.audit_log.after IS 'the row after the change (jsonb), NULL for a delete';
COMMENT ON COLUMN @extschema@.compartment_users.user_id IS 'user id (for act_as_local)';
COMMENT ON COLUMN @extschema@.compartment_users.compartment_id IS 'the user''s compartment';
COMMENT ON COLUMN @extschema@.compartment_users.email IS 'the account''s e-mail address';
COMMENT ON COLUMN @extschema@.compartment_users.kind IS 'internal or external';
COMMENT ON COLUMN @extschema@.compartment_users.client_id IS 'an external user''s client';
COMMENT ON COLUMN @extschema@.compartment_users.client_code IS 'that client''s code';
COMMENT ON COLUMN @extschema@.compartment_users.is_admin IS 'administrator of the compartment';
COMMENT ON COLUMN @extschema@.compartment_users.disabled IS 'cannot be acted as';
COMMENT ON COLUMN @extschema@.migration_steps.migration_id IS 'the migration';
COMMENT ON COLUMN @extschema@.migration_steps.step_no IS 'the step''s number in this migration';
COMMENT ON COLUMN @extschema@.migration_steps.step IS 'the function that took the step';
COMMENT ON COLUMN @extschema@.migration_steps.from_state IS 'the state before';
COMMENT ON COLUMN @extschema@.migration_steps.to_state IS 'the state after';
COMMENT ON COLUMN @extschema@.migration_steps.party IS 'the party that took it';
COMMENT ON COLUMN @extschema@.migration_steps.detail IS 'details of the step';
COMMENT ON COLUMN @extschema@.migration_steps.at IS 'when it was taken';
COMMENT ON COLUMN @extschema@.migrations.migration_id IS 'migration id';
COMMENT ON COLUMN @extschema@.migrations.administration_id IS 'the administration that changes firm';
COMMENT ON COLUMN @extschema@.migrations.administration_code IS 'its code (for the target, once the source approved)';
COMMENT ON COLUMN @extschema@.migrations.administration_name IS 'its name (idem)';
COMMENT ON COLUMN @extschema@.migrations.scenario IS 'archive_and_transfer or export_and_delete';
COMMENT ON COLUMN @extschema@.migrations.state IS 'the current state';
COMMENT ON COLUMN @extschema@.migrations.my_side IS 'which party the caller''s compartment is: source, target or client';
COMMENT ON COLUMN @extschema@.migrations.source_compartment_id IS 'the compartment it leaves';
COMMENT ON COLUMN @extschema@.migrations.source_compartment_code IS 'its code';
COMMENT ON COLUMN @extschema@.migrations.target_compartment_id IS 'the compartment it goes to';
COMMENT ON COLUMN @extschema@.migrations.target_compartment_code IS 'its code';
COMMENT ON COLUMN @extschema@.migrations.approvals IS 'the parties that approved';
COMMENT ON COLUMN @extschema@.migrations.awaiting IS 'the parties whose approval is missing';
COMMENT ON COLUMN @extschema@.migrations.consent_reference IS 'the client''s written consent reference, if recorded';
COMMENT ON COLUMN @extschema@.migrations.next_steps IS 'the steps allowed from the current state';
COMMENT ON COLUMN @extschema@.migrations.target_client_id IS 'the client at the target, once chosen';
COMMENT ON COLUMN @extschema@.migrations.successor_administration_id IS 'the new active administration at the target';
COMMENT ON COLUMN @extschema@.migrations.reason IS 'why it was rejected';
COMMENT ON COLUMN @extschema@.migrations.report IS 'what the transfer or deletion did';
COMMENT ON COLUMN @extschema@.migrations.requested_at IS 'when it was requested';
COMMENT ON COLUMN @extschema@.migrations.updated_at IS 'when its state last changed';
COMMENT ON COLUMN @extschema@.my_administrations.administration_id IS 'an administration the identity holds rights on';
COMMENT ON COLUMN @extschema@.my_administrations.code IS 'its code';
COMMENT ON COLUMN @extschema@.my_administrations.name IS 'its name';
COMMENT ON COLUMN @extschema@.my_administrations.state IS 'active, archived or deleted';
COMMENT ON COLUMN @extschema@.my_administrations.client_id IS 'its client';
COMMENT ON COLUMN @extschema@.my_administrations.client_code IS 'the client''s code';
COMMENT ON COLUMN @extschema@.my_administrations.client_name IS 'the client''s name';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_id IS 'its compartment (another one for a delegation)';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_code IS 'the compartment''s code';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_name IS 'the compartment''s name';
COMMENT ON COLUMN @extschema@.my_administrations.rights IS 'the identity''s rights on it: read, write, submit, manage';
COMMENT ON COLUMN @extschema@.my_clients.client_id IS 'a client of the administrations the identity holds rights on';
COMMENT ON COLUMN @extschema@.my_clients.code IS 'its code';
COMMENT ON COLUMN @extschema@.my_clients.name IS 'its name';
COMMENT ON COLUMN @extschema@.my_clients.compartment_id IS 'its compartment';
COMMENT ON COLUMN @extschema@.my_clients.compartment_code IS 'the compartment''s code';
COMMENT ON COLUMN @extschema@.my_clients.compartment_name IS 'the compartment''s name';
COMMENT ON SEQUENCE @extschema@.subscription_id_seq IS 'ids of tenancy.subscription';
COMMENT ON SEQUENCE @extschema@.compartment_id_seq IS 'ids of tenancy.compartment';
COMMENT ON SEQUENCE @extschema@.client_id_seq IS 'ids of tenancy.client';
COMMENT ON SEQUENCE @extschema@.administration_id_seq IS 'ids of tenancy.administration';
COMMENT ON SEQUENCE @extschema@.account_id_seq IS 'ids of tenancy.account';
COMMENT ON SEQUENCE @extschema@.users_id_seq IS 'ids of tenancy.users';
COMMENT ON SEQUENCE @extschema@.audit_entry_id_seq IS 'entry numbers of tenancy.audit_entry';
COMMENT ON SEQUENCE @extschema@.delegation_id_seq IS 'ids of tenancy.delegation';
COMMENT ON SEQUENCE @extschema@.migration_id_seq IS 'ids of tenancy.migration';
COMMENT ON SEQUENCE @extschema@.migration_approval_id_seq IS 'ids of tenancy.migration_approval';
COMMENT ON SEQUENCE @extschema@.migration_history_id_seq IS 'ids of tenancy.migration_history';

/* ------------------------------------------------------------------
 * Scale-out with Citus: the identity token (R25, R3), token.c
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.identity_token() RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_identity_token'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.identity_token() IS
	'a signed token of the session''s identity, for the current role only, valid for tenancy.token_lifetime seconds: what a Citus coordinator sets as tenancy.token on its workers (R25)';
-- nobody but the application servers: a token is an identity
REVOKE ALL ON FUNCTION @extschema@.identity_token() FROM PUBLIC;
-- application servers, which may act as any user anyway
GRANT EXECUTE ON FUNCTION @extschema@.identity_token() TO tenancy_app;

/* ------------------------------------------------------------------
 * Scale-out with Citus (R25): distribute() and the replicas of the
 * catalog that the workers' checks read (distribute.c).  check() above
 * calls distributed_tables() and shard_problems(), defined before it.
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Scale-out with Citus (R25): distribute() and the replicas of the
 * catalog that the workers' checks read (distribute.c)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.distribute(tbl regclass, administration_column name DEFAULT 'administration_id',
	carry_on_migration boolean DEFAULT true) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_distribute' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.distribute(regclass, name, boolean) IS
	'protect a table and distribute it over the Citus cluster by its administration column, colocated with the other protected tables (table owner with tenancy_admin, on the coordinator)';
REVOKE ALL ON FUNCTION @extschema@.distribute(regclass, name, boolean) FROM PUBLIC;
-- table owners who are platform operators distribute their tables, as they protect them
GRANT EXECUTE ON FUNCTION @extschema@.distribute(regclass, name, boolean) TO tenancy_admin;

CREATE FUNCTION @extschema@.replicate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_replicate' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.replicate() IS
	'trigger on the catalog tables of a Citus coordinator: copies each change into the reference table the workers read (tenancy.replica_<table>)';
-- triggers fire without EXECUTE; only distribute() attaches it
REVOKE ALL ON FUNCTION @extschema@.replicate() FROM PUBLIC;

CREATE FUNCTION @extschema@.resync_replicas() RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_resync_replicas' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.resync_replicas() IS
	'copy the catalog into its replicas on the Citus nodes again, after a restore or a change made with triggers off (tenancy_admin, on the coordinator)';
REVOKE ALL ON FUNCTION @extschema@.resync_replicas() FROM PUBLIC;
-- platform operators repair the replicas after a restore
GRANT EXECUTE ON FUNCTION @extschema@.resync_replicas() TO tenancy_admin;

/* ------------------------------------------------------------------
 * Scale-out with Citus (R25): the DDL guard on shards (ddl.c)
 * ------------------------------------------------------------------ */

-- a policy created on a shard of a protected table (Citus does, on every
-- new shard) must be a copy of its table's: checked when CREATE POLICY ends
CREATE EVENT TRIGGER tenancy_ddl_shard_policy ON ddl_command_end
	WHEN TAG IN ('CREATE POLICY')
	EXECUTE FUNCTION @extschema@.ddl_end();

/* ------------------------------------------------------------------
 * The caller's views of the catalog: no condition of the caller's on rows
 * they do not show
 * ------------------------------------------------------------------ */

-- A security_barrier view still lets PostgreSQL push the caller's leakproof
-- conditions (=, <, >= on text and numbers) down into the scans of its
-- tables.  These views narrow their rows by a join (with my_rights(), with
-- the migration a row belongs to), not by a condition on each table, so a
-- pushed condition ran over every firm's rows, and EXPLAIN ANALYZE's row
-- counts told whether another firm has a client, administration or
-- compartment of a given name or code: any login, a reporting login too,
-- rebuilt the names one character at a time (1.3 attack).  OFFSET 0 makes
-- each view a fence: the caller's conditions filter what it shows, and
-- nothing else.  (audit_log: above.)
CREATE OR REPLACE VIEW @extschema@.my_administrations WITH (security_barrier) AS
	SELECT a.id AS administration_id, a.code, a.name, a.state,
		   c.id AS client_id, c.code AS client_code, c.name AS client_name,
		   k.id AS compartment_id, k.code AS compartment_code, k.name AS compartment_name,
		   r.rights
	  FROM @extschema@.my_rights() r
	  JOIN @extschema@.administration a ON a.id OPERATOR(pg_catalog.=) r.administration_id
	  JOIN @extschema@.client c ON c.id OPERATOR(pg_catalog.=) a.client_id
	  JOIN @extschema@.compartment k ON k.id OPERATOR(pg_catalog.=) a.compartment_id
	OFFSET 0;
CREATE OR REPLACE VIEW @extschema@.my_clients WITH (security_barrier) AS
	SELECT c.id AS client_id, c.code, c.name,
		   k.id AS compartment_id, k.code AS compartment_code, k.name AS compartment_name
	  FROM @extschema@.client c
	  JOIN @extschema@.compartment k ON k.id OPERATOR(pg_catalog.=) c.compartment_id
	 WHERE c.id IN (SELECT a.client_id
					  FROM @extschema@.my_rights() r
					  JOIN @extschema@.administration a
						ON a.id OPERATOR(pg_catalog.=) r.administration_id)
	OFFSET 0;
CREATE OR REPLACE VIEW @extschema@.migration_steps WITH (security_barrier) AS
	SELECT h.migration_id, h.id AS step_no, h.step, h.from_state, h.to_state, h.party,
		   h.detail, h.at
	  FROM @extschema@.migration_history h
	  JOIN @extschema@.migration m ON m.id OPERATOR(pg_catalog.=) h.migration_id
	 WHERE @extschema@.migration_party(m.source_compartment_id, m.source_client_id,
									   m.target_compartment_id, m.target_client_id) IS NOT NULL
	OFFSET 0;
CREATE OR REPLACE VIEW @extschema@.migrations WITH (security_barrier) AS
	SELECT m.id AS migration_id, m.administration_id,
		   CASE WHEN s.side OPERATOR(pg_catalog.<>) 'target' OR src.approved THEN a.code END
			   AS administration_code,
		   CASE WHEN s.side OPERATOR(pg_catalog.<>) 'target' OR src.approved THEN a.name END
			   AS administration_name,
		   m.scenario, m.state, s.side AS my_side,
		   m.source_compartment_id, sc.code AS source_compartment_code,
		   m.target_compartment_id, tc.code AS target_compartment_code,
		   ARRAY(SELECT p.party FROM @extschema@.migration_approval p
				  WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
				  ORDER BY pg_catalog.array_position(ARRAY['source', 'client', 'target'], p.party)) AS approvals,
		   ARRAY(SELECT x.party FROM pg_catalog.unnest(ARRAY['source', 'client', 'target']) x(party)
				  WHERE m.state OPERATOR(pg_catalog.=) 'requested'
					AND NOT EXISTS (SELECT FROM @extschema@.migration_approval p
									 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
									   AND p.party OPERATOR(pg_catalog.=) x.party)) AS awaiting,
		   (SELECT p.consent_reference FROM @extschema@.migration_approval p
			 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
			   AND p.party OPERATOR(pg_catalog.=) 'client') AS consent_reference,
		   @extschema@.migration_next_steps(m.state, m.scenario) AS next_steps,
		   m.target_client_id, m.successor_id AS successor_administration_id,
		   m.reason, m.report, m.requested_at, m.updated_at
	  FROM @extschema@.migration m
	 CROSS JOIN LATERAL (SELECT @extschema@.migration_party(m.source_compartment_id,
				m.source_client_id, m.target_compartment_id, m.target_client_id) AS side) s
	 CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM @extschema@.migration_approval p
				 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
				   AND p.party OPERATOR(pg_catalog.=) 'source') AS approved) src
	  JOIN @extschema@.administration a ON a.id OPERATOR(pg_catalog.=) m.administration_id
	  JOIN @extschema@.compartment sc ON sc.id OPERATOR(pg_catalog.=) m.source_compartment_id
	  JOIN @extschema@.compartment tc ON tc.id OPERATOR(pg_catalog.=) m.target_compartment_id
	 WHERE s.side IS NOT NULL
	OFFSET 0;

/* ------------------------------------------------------------------
 * Last: privileges on the catalog that tenancy does not grant, given by
 * default privileges of the installing role to the objects above
 * (schema_problems); revoked, so that a fresh install and an update end
 * with the catalog closed (check() reports any granted later)
 * ------------------------------------------------------------------ */
DO $revoke$
DECLARE
	f text;
BEGIN
	FOR f IN SELECT s.fix FROM @extschema@.schema_problems() s WHERE s.fix IS NOT NULL LOOP
		EXECUTE f;
	END LOOP;
END
$revoke$;
