-- test/demo/overview.sql -- the sample as the operator (postgres) sees it
--
-- Run by test/demo.sh with psql as postgres, before the walk-through.

\pset footer off
\pset border 1
\pset null '-'

\echo
\echo 'The sample, as the platform operator (postgres) sees the catalog'
\echo '================================================================='
\echo
\echo 'Subscriptions, compartments, clients and administrations, with their journal lines:'
SELECT s.name AS subscription, k.code AS compartment, k.allow_external_users AS externals,
	   c.name AS client, a.code, a.name AS administration,
	   (SELECT count(*) FROM public.journal_line j WHERE j.administration_id = a.id) AS lines
  FROM tenancy.subscription s
  JOIN tenancy.compartment k ON k.subscription_id = s.id
  JOIN tenancy.client c ON c.compartment_id = k.id
  JOIN tenancy.administration a ON a.client_id = c.id
 ORDER BY s.id, k.code, c.code, a.code;

\echo
\echo 'Users and their rights (one account, p.bakker@..., is a user in two compartments):'
SELECT u.id AS user_id, acc.email, k.code AS compartment, u.kind, c.name AS client,
	   CASE WHEN u.is_admin THEN 'admin' END AS admin,
	   CASE WHEN u.disabled THEN 'disabled' END AS disabled,
	   coalesce(string_agg(a.code || ' ' ||
			concat_ws('/', CASE WHEN p.can_read THEN 'r' END, CASE WHEN p.can_write THEN 'w' END,
					  CASE WHEN p.can_submit THEN 's' END, CASE WHEN p.can_manage THEN 'm' END),
			', ' ORDER BY a.code), '-') AS "rights (r/w/s/m)"
  FROM tenancy.users u
  JOIN tenancy.account acc ON acc.id = u.account_id
  JOIN tenancy.compartment k ON k.id = u.compartment_id
  LEFT JOIN tenancy.client c ON c.id = u.client_id
  LEFT JOIN tenancy.permission p ON p.user_id = u.id
  LEFT JOIN tenancy.administration a ON a.id = p.administration_id
 GROUP BY u.id, acc.email, k.code, u.kind, c.name, u.is_admin, u.disabled
 ORDER BY k.code, u.id;

\echo
\echo 'The application''s logins (public.app_user) and the tenancy user each acts as:'
SELECT login, tenancy_user_id AS user_id, display_name, description
  FROM public.app_user ORDER BY tenancy_user_id;

\echo
\echo 'The protected table public.journal_line (row security on and forced):'
SELECT c.relname AS "table", pg_get_userbyid(c.relowner) AS owner,
	   c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
	   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
	   (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
	   (SELECT count(*) FROM public.journal_line) AS "rows in total"
  FROM pg_class c
 WHERE c.oid = 'public.journal_line'::regclass;
