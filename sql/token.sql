--
-- token: R25, R3, R2, R4, R5 -- the signed token that carries an identity
-- to the workers of a Citus cluster cannot be forged, stretched past its
-- transaction or expiry, or replayed by another role.  One node is both
-- issuer (tenancy.identity_token()) and verifier (SET LOCAL tenancy.token).
--
\i test/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DO $$
BEGIN
	-- a second application server login, and the owner of a function below
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_app2') THEN
		CREATE ROLE regress_app2 LOGIN IN ROLE tenancy_app;
	END IF;
END
$$;
GRANT SELECT ON public.journal TO regress_app2;
-- the cluster secret, and files that must not be accepted as one; the
-- server writes them (COPY), so they belong to its user
SELECT current_setting('data_directory') || '/tenancy_regress_secret' AS secret_file,
	   current_setting('data_directory') || '/tenancy_regress_wide' AS wide_file,
	   current_setting('data_directory') || '/tenancy_regress_short' AS short_file,
	   current_setting('data_directory') || '/tenancy_regress_missing' AS missing_file \gset
\set secret 'regress-cluster-secret-0123456789abcdef'
COPY (SELECT :'secret') TO :'secret_file';
COPY (SELECT :'secret') TO :'wide_file';
COPY (SELECT 'too-short-a-secret') TO :'short_file';
-- (the programs read COPY's row first: one that exits without reading it
-- makes COPY fail with a broken pipe when the machine is busy)
SELECT 'cat >/dev/null; chmod 0600 ' || :'secret_file' || ' ' || :'short_file' || '; chmod 0640 ' || :'wide_file' AS chmod_files,
	   'cat >/dev/null; rm -f ' || :'secret_file' || ' ' || :'wide_file' || ' ' || :'short_file' AS rm_files \gset
COPY (SELECT 1) TO PROGRAM :'chmod_files';
-- what an outsider who knows the secret could sign (pgcrypto): the checks
-- that follow a valid signature are proved with it
CREATE FUNCTION pg_temp.sign(payload text, key text) RETURNS text LANGUAGE sql
	AS $$SELECT 'v1.' || payload || '.'
			|| encode(hmac('v1.' || payload || E'\n' || current_database(), key, 'sha256'), 'hex')$$;
SELECT extract(epoch FROM now())::bigint AS now_epoch \gset
RESET client_min_messages;
\set QUIET off

-- 1. R25, R2: without a secret no token is issued or accepted; a single
-- node works as before
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
SELECT tenancy.identity_token();									-- fails: no secret
SELECT tenancy.reset();
BEGIN;
SET LOCAL tenancy.token = 'v1.1/1/1/-/99999999999/0011223344556677/regress_app.0000000000000000000000000000000000000000000000000000000000000000';	-- fails: no secret
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = 'garbage';								-- fails: malformed
ROLLBACK;
SET tenancy.cluster_secret_file = 'x';								-- fails: superuser only
SHOW tenancy.cluster_secret_file;									-- fails: superuser only
RESET ROLE;

-- 2. R25: the secret file must be the server's own: not group or other
-- readable, not too short, existing
SET tenancy.cluster_secret_file = :'wide_file';
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
SELECT tenancy.identity_token();									-- fails: group readable
RESET ROLE;
SET tenancy.cluster_secret_file = :'short_file';
SET ROLE regress_app;
SELECT tenancy.identity_token();									-- fails: too short
RESET ROLE;
SET tenancy.cluster_secret_file = :'missing_file';
SET ROLE regress_app;
SELECT tenancy.identity_token();									-- fails: no file
SELECT tenancy.reset();
RESET ROLE;
SET tenancy.cluster_secret_file = :'secret_file';

-- 3. R25: a token issued on this node is accepted here, for its transaction
-- only, and carries the user and its rights (R7)
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
SELECT extract(epoch FROM clock_timestamp())::bigint AS issued_at \gset
SELECT tenancy.identity_token() AS tok \gset
SELECT :'tok' ~ '^v1\.[0-9]+/[0-9]+/[0-9]+/-/[0-9]+/[0-9a-f]{16}/regress_app\.[0-9a-f]{64}$' AS well_formed;	-- ok
-- it expires tenancy.token_lifetime seconds after it was issued
SELECT split_part(:'tok', '/', 5)::bigint - :issued_at BETWEEN 58 AND 62 AS one_minute;	-- ok: the default
RESET ROLE;
SET tenancy.token_lifetime = 300;
SET ROLE regress_app;
SELECT split_part(tenancy.identity_token(), '/', 5)::bigint - extract(epoch FROM clock_timestamp())::bigint
	   BETWEEN 298 AND 302 AS five_minutes;								-- ok
RESET ROLE;
RESET tenancy.token_lifetime;
SET ROLE regress_app;
SELECT tenancy.reset();
SELECT count(*) FROM journal;										-- ok: 0, no identity
BEGIN;
SET LOCAL tenancy.token = :'tok';									-- ok
SELECT tenancy.current_user_id() = :u_piet AS is_piet;				-- ok
SELECT reference FROM journal ORDER BY reference COLLATE "C";		-- ok: piet's rows only
UPDATE journal SET amount = amount WHERE reference LIKE 'jansen%';	-- ok: 0 rows, not piet's (R7)
UPDATE journal SET amount = amount WHERE reference LIKE 'x-%';		-- ok: 0 rows, another firm's (R6)
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_jansen, '2026-01-05', 1, 'x');						-- fails: not piet's (R7)
COMMIT;
SELECT tenancy.current_user_id();									-- ok: NULL, ended with the transaction (R4)
SELECT count(*) FROM journal;										-- ok: 0
SHOW tenancy.token;													-- ok: empty
-- SET (not LOCAL) inside a block ends with the transaction too
BEGIN;
SET tenancy.token = :'tok';											-- ok
SELECT tenancy.current_user_id() = :u_piet AS is_piet;				-- ok
COMMIT;
SELECT tenancy.current_user_id();									-- ok: NULL
SHOW tenancy.token;													-- ok: empty
BEGIN;
SELECT set_config('tenancy.token', :'tok', false) IS NOT NULL AS set;	-- ok
ROLLBACK;
SELECT tenancy.current_user_id();									-- ok: NULL
-- RESET ALL leaves the token alone, as it leaves tenancy.identity
BEGIN;
SET LOCAL tenancy.token = :'tok';
RESET ALL;
SELECT tenancy.current_user_id() = :u_piet AS is_piet;				-- ok
-- the empty value drops the identity
SET LOCAL tenancy.token = '';										-- ok
SELECT tenancy.current_user_id();									-- ok: NULL
ROLLBACK;
RESET ROLE;

-- 4. R3, R25: a forged or altered token is refused
SET ROLE regress_app;
BEGIN;
-- another user in the payload, the signature kept
SELECT regexp_replace(:'tok', '^v1\.[0-9]+/', 'v1.' || :u_jan || '/') AS forged \gset
SET LOCAL tenancy.token = :'forged';								-- fails: signature
ROLLBACK;
BEGIN;
-- one character of the signature changed
SELECT left(:'tok', -1) || CASE WHEN right(:'tok', 1) = '0' THEN '1' ELSE '0' END AS flipped \gset
SET LOCAL tenancy.token = :'flipped';								-- fails: signature
ROLLBACK;
BEGIN;
-- signed with another secret
SELECT pg_temp.sign(:u_jan || '/' || :c_cli || '/1/-/' || (:now_epoch + 600) || '/0011223344556677/regress_app',
					'not-the-cluster-secret-0123456789abcdef') AS other_key \gset
SET LOCAL tenancy.token = :'other_key';								-- fails: signature
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = 'v1.';									-- fails: malformed
ROLLBACK;
BEGIN;
SELECT set_config('tenancy.token', :'tok' || :'tok', true);			-- fails: malformed
ROLLBACK;
BEGIN;
SELECT set_config('tenancy.token', repeat('v1.', 1000), true);		-- fails: malformed
ROLLBACK;
BEGIN;
SELECT set_config('tenancy.token', upper(:'tok'), true);			-- fails: malformed
ROLLBACK;
BEGIN;
SELECT set_config('tenancy.token', NULL, true);						-- ok: NULL is the empty value
SELECT tenancy.current_user_id();									-- ok: NULL
ROLLBACK;
RESET ROLE;

-- 5. R25: a validly signed token is still refused when it has expired or
-- carries no user (signed here with the secret, as only a node can)
SET ROLE regress_app;
BEGIN;
SELECT pg_temp.sign(:u_piet || '/' || :c_cli || '/1/-/' || (:now_epoch - 1) || '/0011223344556677/regress_app',
					:'secret') AS expired \gset
SET LOCAL tenancy.token = :'expired';								-- fails: expired
ROLLBACK;
BEGIN;
SELECT pg_temp.sign('0/' || :c_cli || '/1/-/' || (:now_epoch + 600) || '/0011223344556677/regress_app',
					:'secret') AS no_user \gset
SET LOCAL tenancy.token = :'no_user';								-- fails: malformed
ROLLBACK;
RESET ROLE;

-- 6. R25, R2: another role cannot replay a token: it carries no identity
-- for any role but its own (not an error: Citus sends it to connections of
-- other roles too)
SET ROLE regress_app2;
BEGIN;
SET LOCAL tenancy.token = :'tok';									-- ok: taken, but no identity
SELECT tenancy.current_user_id();									-- ok: NULL
SELECT count(*) FROM journal;										-- ok: 0, fail closed
ROLLBACK;
RESET ROLE;
SET ROLE regress_plain;
BEGIN;
SET LOCAL tenancy.token = :'tok';									-- ok: taken, but no identity
SELECT count(*) FROM journal;										-- ok: 0, fail closed
ROLLBACK;
RESET ROLE;
-- nor a superuser
BEGIN;
SET LOCAL tenancy.token = :'tok';									-- ok: taken, but no identity
SELECT tenancy.current_user_id();									-- ok: NULL
ROLLBACK;
-- SET ROLE inside the transaction does not lend it either
SET ROLE regress_app2;
BEGIN;
SET LOCAL tenancy.token = :'tok';
SET LOCAL ROLE regress_app;
SELECT tenancy.current_user_id();									-- ok: NULL, taken as regress_app2
ROLLBACK;
RESET ROLE;
-- R3, R14: a login that may not act as a user gets no identity from a
-- token it sets as the token's role: a member of the application role that
-- does not inherit it, after SET ROLE; a plain login, through a SECURITY
-- DEFINER function of that role (1.3 attack: both acted as piet, and a
-- bound reporting login wrote its rows); act_as refuses both
SET client_min_messages = warning;
CREATE ROLE regress_tok_noinherit LOGIN NOINHERIT IN ROLE regress_app;
CREATE FUNCTION public.regress_set_setting(name text, value text) RETURNS text
	LANGUAGE sql SECURITY DEFINER AS 'SELECT set_config(name, value, true)';
ALTER FUNCTION public.regress_set_setting(text, text) OWNER TO regress_app;
RESET client_min_messages;
SET SESSION AUTHORIZATION regress_tok_noinherit;
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL tenancy.token = :'tok';									-- ok: taken, but no identity
SELECT tenancy.current_user_id();									-- ok: NULL
SELECT count(*) FROM journal;										-- ok: 0, fail closed
ROLLBACK;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_plain;
BEGIN;
SELECT public.regress_set_setting('tenancy.token', :'tok') IS NOT NULL AS set;	-- ok: taken, but no identity
SELECT tenancy.current_user_id();									-- ok: NULL
ROLLBACK;
RESET SESSION AUTHORIZATION;
DROP FUNCTION public.regress_set_setting(text, text);
DROP ROLE regress_tok_noinherit;

-- 7. R4, R25: only inside a transaction block, outside subtransactions,
-- never as a default
SET ROLE regress_app;
SET tenancy.token = :'tok';											-- fails: no transaction block
SELECT set_config('tenancy.token', :'tok', false);					-- fails: no transaction block
BEGIN;
SAVEPOINT s;
SET LOCAL tenancy.token = :'tok';									-- fails: subtransaction
ROLLBACK;
RESET ROLE;
ALTER ROLE regress_app SET tenancy.token = :'tok';					-- fails: not a default
CREATE FUNCTION public.with_token() RETURNS bigint LANGUAGE sql
	SET tenancy.token = 'x' AS 'SELECT tenancy.current_user_id()';	-- fails: not a default

-- 8. R3, R5: a token never replaces an identity of act_as (nor lifts its
-- lock), and an identity carried by a token cannot be changed
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff, 'lock-key');
BEGIN;
SET LOCAL tenancy.token = :'tok';									-- fails: the session acts as a user
ROLLBACK;
SELECT tenancy.current_user_id() = :u_staff AS is_staff;			-- ok: unchanged
SELECT tenancy.reset('lock-key');
BEGIN;
SET LOCAL tenancy.token = :'tok';
SELECT tenancy.act_as_local(:u_staff);								-- fails: under a token
SELECT tenancy.act_as(:u_staff);									-- fails: under a token
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = :'tok';
SELECT tenancy.reset();												-- fails: under a token
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = :'tok';
SELECT tenancy.identity_token();									-- fails: not renewed
ROLLBACK;
RESET ROLE;
SET ROLE regress_plain;
SELECT tenancy.identity_token();									-- fails: not tenancy_app
RESET ROLE;
-- a locked identity's token says so, and carries nothing of the key
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet, 'lock-key');
SELECT split_part(tenancy.identity_token(), '/', 4) = 'locked' AS carries_lock,
	   position(encode(sha256('lock-key'::bytea), 'hex') in tenancy.identity_token()) = 0 AS not_the_key;	-- ok: t, t (1.3 attack: it carried the key's SHA-256)
SELECT tenancy.reset('lock-key');
RESET ROLE;

-- 9. R25: a node without Citus issues no token for act_as_local: the
-- single-node behaviour is unchanged with a secret too
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_piet);
SHOW tenancy.token;													-- ok: empty
SELECT count(*) FROM journal;										-- ok: piet's 9
COMMIT;
RESET ROLE;

-- 10. R25: parallel workers act as the token's user
SET ROLE regress_app;
BEGIN;
SET LOCAL tenancy.token = :'tok';
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;										-- ok: piet's 9
COMMIT;
RESET ROLE;

-- cleanup
\set QUIET on
SET client_min_messages = warning;
RESET tenancy.cluster_secret_file;
COPY (SELECT 1) TO PROGRAM :'rm_files';
DROP EXTENSION pgcrypto;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
DROP ROLE regress_app2;
