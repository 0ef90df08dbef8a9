-- test/demo/scope.sql -- what the current identity sees
--
-- Included by walkthrough.sql (\i) after every act_as: the identity's
-- administrations (tenancy.my_administrations) and the journal_line rows
-- that row security lets through, per administration.  Expects the psql
-- variable total_rows (rows in the table, counted by the operator).

\set ECHO none

\echo '  tenancy.my_administrations:'
SELECT compartment_code AS compartment, client_name AS client, code, name,
	   array_to_string(rights, ', ') AS rights
  FROM tenancy.my_administrations
 ORDER BY compartment_code, client_name, code;
SELECT (:ROW_COUNT = 0) AS scope_empty \gset
\if :scope_empty
\echo '  (none)'
\endif

\echo '  journal_line rows it can read, per administration:'
SELECT coalesce(m.code, '#' || j.administration_id || ' (not in my_administrations!)') AS administration,
	   m.name, count(*) AS lines, min(j.booked_on) AS first, max(j.booked_on) AS last
  FROM public.journal_line j
  LEFT JOIN tenancy.my_administrations m USING (administration_id)
 GROUP BY 1, 2
 ORDER BY 1;
SELECT (:ROW_COUNT = 0) AS rows_empty \gset
\if :rows_empty
\echo '  (none)'
\endif
SELECT count(*) AS visible_rows FROM public.journal_line \gset
\echo '  =>' :visible_rows 'journal lines visible (the sample loaded' :total_rows 'in all)'
\echo

\set ECHO queries
