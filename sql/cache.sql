--
-- cache: R7, R12 -- the visibility cache answers the same whatever form an
-- identity takes in it (visibility.c): probed administration by
-- administration, loaded complete, or held as one mask when a user has the
-- same rights on every administration of its compartment (here 300).
--
\set QUIET on
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
CREATE EXTENSION tenancy;
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_cache_app') THEN
		CREATE ROLE regress_cache_app LOGIN IN ROLE tenancy_app;
	END IF;
END $$;
SELECT tenancy.create_compartment(tenancy.create_subscription('Cache'), 'cache', 'Cache firm') AS comp \gset
SELECT tenancy.create_client(:comp, 'c', 'Client') AS cl \gset
SELECT tenancy.add_user(:comp, 'all@cache.example', 'internal') AS u_all \gset
SELECT tenancy.add_user(:comp, 'most@cache.example', 'internal') AS u_most \gset
SELECT tenancy.create_compartment(tenancy.create_subscription('Other'), 'other', 'Other firm') AS comp2 \gset
SELECT tenancy.create_administration(tenancy.create_client(:comp2, 'x', 'X'), 'x', 'X books') AS a_other \gset
CREATE TEMP TABLE adm AS
SELECT g, tenancy.create_administration(:cl, 'a' || g, 'books ' || g) AS id
  FROM generate_series(1, 300) g;
SELECT count(tenancy.grant_rights(:u_all, id, '{read,write}')) FROM adm;
SELECT count(tenancy.grant_rights(:u_most, id, '{read}')) FROM adm WHERE g > 1;
SELECT min(id) AS a_first, max(id) AS a_last FROM adm \gset
DROP TABLE adm;
RESET client_min_messages;
\set QUIET off

-- 1. every form answers alike: "all" (one mask after its complete load),
-- "most" (299 entries); a probe first, then the complete load
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_last, 'write') AS probed_write,				-- ok: t
	   tenancy.can(:a_other, 'read') AS other_firm;					-- ok: f (R6)
-- 32 probes, then the complete load finds one mask for all 300
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write')) AS all_writes	-- ok: 300
  FROM generate_series(:a_first, :a_last) a;
SELECT tenancy.can(:a_first, 'read') AS first, tenancy.can(:a_last, 'write') AS last,
	   tenancy.can(:a_other, 'read') AS other_firm, tenancy.can(-1) AS unknown;
RESET ROLE;
SELECT complete_identities, entries < 300 AS held_as_one_mask FROM tenancy.cache_statistics();
SET ROLE regress_cache_app;
SELECT array_length(tenancy.visible_administrations('write'), 1) AS listed;	-- ok: 300
SELECT tenancy.act_as_local(:u_most) IS NULL AS acting;
SELECT tenancy.can(:a_first, 'read') AS first_denied,				-- ok: f (R7)
	   tenancy.can(:a_last, 'read') AS last,
	   tenancy.can(:a_last, 'write') AS no_write;
SELECT array_length(tenancy.visible_administrations('read'), 1) AS most_reads;	-- ok: 299
COMMIT;
RESET ROLE;

-- 2. the uniform mask follows the administration's state: archived means
-- read-only (R12), for "all" as for everyone
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_last;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_last, 'read') AS archived_read,				-- ok: t
	   tenancy.can(:a_last, 'write') AS archived_write,				-- ok: f (R12)
	   tenancy.can(:a_first, 'write') AS active_write;				-- ok: t
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write')) AS writes		-- ok: 299
  FROM generate_series(:a_first, :a_last) a;
SELECT array_length(tenancy.visible_administrations('write'), 1) AS listed;	-- ok: 299
COMMIT;
RESET ROLE;

-- 3. a revoke on one administration: "all" is no longer uniform, and the
-- next statement knows it (R7)
SELECT tenancy.revoke_rights(:u_all, :a_first, NULL);
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_first, 'read') AS revoked,					-- ok: f
	   tenancy.can(:a_first + 1, 'write') AS kept;					-- ok: t
SELECT count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads			-- ok: 299
  FROM generate_series(:a_first, :a_last) a;
SELECT array_length(tenancy.visible_administrations('read'), 1) AS listed;	-- ok: 299
COMMIT;
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP ROLE regress_cache_app;
