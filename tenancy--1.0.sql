/* tenancy--1.0.sql -- compartments, clients and administrations walled off inside PostgreSQL */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tenancy" to load this file. \quit

/*
 * Roles.  They are cluster-wide, so a second database that installs the
 * extension finds them already there.
 *   tenancy_admin  platform operators: manage every compartment
 *   tenancy_app    application servers: may act as a user (act_as)
 */
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_admin') THEN
		CREATE ROLE tenancy_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_app') THEN
		CREATE ROLE tenancy_app NOLOGIN;
	END IF;
END
$roles$;

/* ------------------------------------------------------------------
 * Validation helpers used by CHECK constraints (C, immutable)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.email_is_valid(email text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_email_is_valid'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_is_valid(text) IS
	'true when the text is a trimmed e-mail address of the form local@domain.tld (R10)';

CREATE FUNCTION @extschema@.code_is_valid(code text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_code_is_valid'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.code_is_valid(text) IS
	'true when the text is a code: 1 to 64 letters, digits, "_", "-" or ".", starting with a letter or digit';

/* ------------------------------------------------------------------
 * The catalog
 *
 * Invariants are declared wherever a constraint can carry them, so they
 * hold for a superuser's plain INSERT too:
 *   - composite foreign keys tie every client, administration, user and
 *     permission to one compartment (R6);
 *   - a permission of an external user carries the user's client, and a
 *     foreign key to administration (id, client_id) makes the
 *     administration belong to that client (R8), which also refuses moving
 *     an administration away from a client whose external users hold
 *     rights on it (R9);
 *   - one user per account and compartment, one account per e-mail
 *     (case-insensitive) (R10).
 * What a constraint cannot say is done by C triggers (triggers.c).
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.subscription (
	id			bigserial PRIMARY KEY,
	name		text NOT NULL CHECK (pg_catalog.btrim(name) <> '')
);
COMMENT ON TABLE @extschema@.subscription IS 'contracts a firm pays for ("abonnement")';

CREATE TABLE @extschema@.compartment (
	id			bigserial PRIMARY KEY,
	subscription_id bigint NOT NULL REFERENCES @extschema@.subscription,
	code		text NOT NULL UNIQUE CHECK (@extschema@.code_is_valid(code)),
	name		text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	allow_external_users boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE @extschema@.compartment IS 'isolated environments ("omgeving"); code unique in the database';

CREATE TABLE @extschema@.client (
	id			bigserial PRIMARY KEY,
	compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	code		text NOT NULL CHECK (@extschema@.code_is_valid(code)),
	name		text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	UNIQUE (compartment_id, code),
	UNIQUE (compartment_id, id)
);
COMMENT ON TABLE @extschema@.client IS 'labels that group administrations and external users ("klant")';

CREATE TABLE @extschema@.administration (
	id			bigserial PRIMARY KEY,
	compartment_id bigint NOT NULL,
	client_id	bigint NOT NULL,
	code		text NOT NULL CHECK (@extschema@.code_is_valid(code)),
	name		text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	state		text NOT NULL DEFAULT 'active'
				CHECK (state IN ('active', 'archived', 'deleted')),
	UNIQUE (compartment_id, code),
	UNIQUE (compartment_id, id),
	UNIQUE (id, client_id),
	FOREIGN KEY (compartment_id, client_id)
		REFERENCES @extschema@.client (compartment_id, id)
);
CREATE INDEX administration_client_idx ON @extschema@.administration (client_id);
COMMENT ON TABLE @extschema@.administration IS 'sets of books ("administratie", "dossier"); code unique in its compartment; archived ones are read-only (R12)';

CREATE TABLE @extschema@.account (
	id			bigserial PRIMARY KEY,
	email		text NOT NULL CHECK (@extschema@.email_is_valid(email))
);
CREATE UNIQUE INDEX account_email_key ON @extschema@.account (pg_catalog.lower(email));
COMMENT ON TABLE @extschema@.account IS 'one global account per person, known by a case-insensitively unique e-mail address (R10)';

CREATE TABLE @extschema@.users (
	id			bigserial PRIMARY KEY,
	compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	account_id	bigint NOT NULL REFERENCES @extschema@.account,
	kind		text NOT NULL CHECK (kind IN ('internal', 'external')),
	client_id	bigint,
	is_admin	boolean NOT NULL DEFAULT false,
	disabled	boolean NOT NULL DEFAULT false,
	CONSTRAINT users_kind_client_check CHECK (
		(kind = 'internal' AND client_id IS NULL) OR
		(kind = 'external' AND client_id IS NOT NULL AND NOT is_admin)),
	UNIQUE (compartment_id, account_id),
	UNIQUE (compartment_id, id),
	UNIQUE (id, client_id),
	FOREIGN KEY (compartment_id, client_id)
		REFERENCES @extschema@.client (compartment_id, id)
);
CREATE INDEX users_account_idx ON @extschema@.users (account_id);
COMMENT ON TABLE @extschema@.users IS 'an account''s membership of one compartment: internal staff, or external and belonging to one client (R8, R10)';

CREATE TABLE @extschema@.permission (
	user_id		bigint NOT NULL,
	administration_id bigint NOT NULL,
	compartment_id bigint NOT NULL,
	user_client_id bigint,
	can_read	boolean NOT NULL DEFAULT false,
	can_write	boolean NOT NULL DEFAULT false,
	can_submit	boolean NOT NULL DEFAULT false,
	can_manage	boolean NOT NULL DEFAULT false,
	PRIMARY KEY (user_id, administration_id),
	CONSTRAINT permission_some_right CHECK (can_read OR can_write OR can_submit OR can_manage),
	FOREIGN KEY (compartment_id, user_id)
		REFERENCES @extschema@.users (compartment_id, id) ON DELETE CASCADE,
	FOREIGN KEY (compartment_id, administration_id)
		REFERENCES @extschema@.administration (compartment_id, id) ON DELETE CASCADE,
	FOREIGN KEY (user_id, user_client_id)
		REFERENCES @extschema@.users (id, client_id),
	FOREIGN KEY (administration_id, user_client_id)
		REFERENCES @extschema@.administration (id, client_id)
);
CREATE INDEX permission_administration_idx ON @extschema@.permission (administration_id);
COMMENT ON TABLE @extschema@.permission IS 'rights of a user on an administration; compartment_id and user_client_id are derived by a trigger and tie the grant to R6 and R8';

CREATE TABLE @extschema@.protected_table (
	relid		regclass PRIMARY KEY,
	administration_column name NOT NULL,
	carry_on_migration boolean NOT NULL DEFAULT true,
	protected_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.protected_table IS 'application tables registered with tenancy.protect()';

CREATE TABLE @extschema@.audit_entry (
	id			bigserial PRIMARY KEY,
	at			timestamptz NOT NULL,
	db_role		name NOT NULL,
	account_id	bigint,
	user_id		bigint,
	compartment_id bigint,
	action		text NOT NULL,
	object_type text NOT NULL,
	object_id	text,
	before		jsonb,
	after		jsonb,
	prev_hash	bytea,
	hash		bytea NOT NULL
);
CREATE INDEX audit_entry_compartment_idx ON @extschema@.audit_entry (compartment_id);
COMMENT ON TABLE @extschema@.audit_entry IS 'append-only, hash-chained log of every catalog change (R22); read it through view tenancy.audit_log';

/* catalog data survives pg_dump */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.subscription', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.subscription_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.compartment', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.compartment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.client_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.administration', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.administration_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.users', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.permission', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.protected_table', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_entry', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_entry_id_seq', '');

/* Nobody reads or writes the catalog directly: the functions below do. */
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @extschema@ FROM PUBLIC;
-- everyone may use the schema: the views and functions check the caller
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

/* ------------------------------------------------------------------
 * Invariant triggers (C)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.permission_derive() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_permission_derive' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.permission_derive() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.permission_derive() IS
	'trigger: fills permission.compartment_id and user_client_id from the user, so the foreign keys enforce R6 and R8';
CREATE TRIGGER permission_derive BEFORE INSERT OR UPDATE ON @extschema@.permission
	FOR EACH ROW EXECUTE FUNCTION @extschema@.permission_derive();

CREATE FUNCTION @extschema@.users_check() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_users_check' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.users_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.users_check() IS
	'trigger: refuses an external user in a compartment that forbids them (R10)';
CREATE TRIGGER users_check BEFORE INSERT OR UPDATE ON @extschema@.users
	FOR EACH ROW EXECUTE FUNCTION @extschema@.users_check();

CREATE FUNCTION @extschema@.compartment_check() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_compartment_check' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.compartment_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.compartment_check() IS
	'trigger: refuses forbidding external users while the compartment has some (R10)';
CREATE TRIGGER compartment_check BEFORE UPDATE ON @extschema@.compartment
	FOR EACH ROW EXECUTE FUNCTION @extschema@.compartment_check();

CREATE FUNCTION @extschema@.invalidate_scope() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_invalidate_scope' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.invalidate_scope() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.invalidate_scope() IS
	'trigger: tells every backend, at commit, to rebuild its visibility cache';
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.administration FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.users FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.permission FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();

/* ------------------------------------------------------------------
 * Audit (R22)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.audit_hash(prev_hash bytea, at timestamptz, db_role name,
	account_id bigint, user_id bigint, compartment_id bigint, action text,
	object_type text, object_id text, before jsonb, after jsonb) RETURNS bytea
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws('|',
		pg_catalog.encode(coalesce($1, '\x'::bytea), 'hex'),
		pg_catalog.to_char($2 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
		$3, $4, $5, $6, $7, $8, $9, $10::text, $11::text), 'UTF8'))
$$;
COMMENT ON FUNCTION @extschema@.audit_hash(bytea, timestamptz, name, bigint, bigint, bigint, text, text, text, jsonb, jsonb) IS
	'hash of one audit entry chained to the previous entry''s hash (R22)';

CREATE FUNCTION @extschema@.audit_change() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_audit_change' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.audit_change() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.audit_change() IS
	'trigger: appends a hash-chained audit entry for every catalog change (R22)';

CREATE FUNCTION @extschema@.audit_append_only() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_audit_append_only' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.audit_append_only() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.audit_append_only() IS
	'trigger: refuses UPDATE, DELETE and TRUNCATE of the audit log (R22)';
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_entry
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON @extschema@.audit_entry
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_append_only();

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.subscription
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('subscription', '');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.compartment
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('compartment', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.client
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('client', 'compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.administration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('administration', 'compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.account
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('account', '');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.users
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('user', 'compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.permission
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('permission', 'compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.protected_table
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('protected_table', '');

/* ------------------------------------------------------------------
 * Identity (R1-R5), identity.c
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.act_as(user_id bigint, lock_key text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_act_as'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.act_as(bigint, text) IS
	'act as this user for the rest of the session; with lock_key the identity is locked until reset or act_as with the same key (R1, R3-R5)';
REVOKE ALL ON FUNCTION @extschema@.act_as(bigint, text) FROM PUBLIC;
-- application servers act as users
GRANT EXECUTE ON FUNCTION @extschema@.act_as(bigint, text) TO tenancy_app;

CREATE FUNCTION @extschema@.act_as_local(user_id bigint, lock_key text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_act_as_local'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.act_as_local(bigint, text) IS
	'act as this user until the end of the current transaction (R4); lock_key is needed only when the session identity is locked';
REVOKE ALL ON FUNCTION @extschema@.act_as_local(bigint, text) FROM PUBLIC;
-- application servers act as users
GRANT EXECUTE ON FUNCTION @extschema@.act_as_local(bigint, text) TO tenancy_app;

CREATE FUNCTION @extschema@.reset(lock_key text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_reset'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reset(text) IS
	'drop the identity; a locked identity needs its key (R4, R5)';
-- anyone may drop an identity: it only ever removes rights (lock permitting)
GRANT EXECUTE ON FUNCTION @extschema@.reset(text) TO PUBLIC;

CREATE FUNCTION @extschema@.current_user_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_current_user_id'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_user_id() IS 'the user the session acts as, or NULL (R1)';

CREATE FUNCTION @extschema@.current_compartment_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_current_compartment_id'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_compartment_id() IS 'the compartment of the user the session acts as, or NULL (R1)';

/* ------------------------------------------------------------------
 * Visibility (R2, R6, R7, R12), visibility.c
 *
 * The row_* functions are what the policies on protected tables call.
 * They answer from a per-backend cache (no SPI per row), are STABLE and
 * PARALLEL SAFE (parallel workers receive the identity through the
 * tenancy.identity setting).  They are LEAKPROOF: they return a boolean,
 * have no visible side effect and raise no error that depends on their
 * argument.  That matters because PostgreSQL gives the restrictive and
 * the permissive policies different security levels, and only a leakproof
 * qual of the higher level may become an index condition.  row_readable and row_writable have a
 * planner support function that turns them into an index condition
 * "column = ANY (visible_administrations(...))".
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.visible_administrations(rights text DEFAULT 'read') RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'tenancy_visible_administrations'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.visible_administrations(text) IS
	'ids of the administrations on which the current identity holds the right, ascending (R7)';

CREATE FUNCTION @extschema@.can(administration_id bigint, rights text DEFAULT 'read') RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_can'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.can(bigint, text) IS
	'whether the current identity holds the right on the administration (R7, R12)';

CREATE FUNCTION @extschema@.row_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'tenancy_row_support'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.row_support(internal) IS
	'planner support: index condition and selectivity for row_readable and row_writable';

CREATE FUNCTION @extschema@.row_in_scope(administration_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_row_in_scope'
	LANGUAGE C STABLE LEAKPROOF PARALLEL SAFE SUPPORT @extschema@.row_support;
COMMENT ON FUNCTION @extschema@.row_in_scope(bigint) IS
	'policy: the administration lies inside the current identity''s compartment wall (R6)';

CREATE FUNCTION @extschema@.row_readable(administration_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_row_readable'
	LANGUAGE C STABLE LEAKPROOF PARALLEL SAFE SUPPORT @extschema@.row_support;
COMMENT ON FUNCTION @extschema@.row_readable(bigint) IS
	'policy: the current identity may read rows of the administration (R2, R7)';

CREATE FUNCTION @extschema@.row_writable(administration_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tenancy_row_writable'
	LANGUAGE C STABLE LEAKPROOF PARALLEL SAFE SUPPORT @extschema@.row_support;
COMMENT ON FUNCTION @extschema@.row_writable(bigint) IS
	'policy: the current identity may write rows of the administration (R2, R7, R12)';

CREATE FUNCTION @extschema@.my_rights() RETURNS TABLE (administration_id bigint, rights text[])
	AS 'MODULE_PATHNAME', 'tenancy_my_rights'
	LANGUAGE C STABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.my_rights() IS
	'the administrations on which the current identity holds any right, with the rights';

-- the visibility functions answer only for the caller's own identity
GRANT EXECUTE ON FUNCTION @extschema@.visible_administrations(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.can(bigint, text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.row_in_scope(bigint) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.row_readable(bigint) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.row_writable(bigint) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.my_rights() TO PUBLIC;

CREATE VIEW @extschema@.my_administrations WITH (security_barrier) AS
	SELECT a.id AS administration_id, a.code, a.name, a.state,
		   c.id AS client_id, c.code AS client_code, c.name AS client_name,
		   k.id AS compartment_id, k.code AS compartment_code, k.name AS compartment_name,
		   r.rights
	  FROM @extschema@.my_rights() r
	  JOIN @extschema@.administration a ON a.id OPERATOR(pg_catalog.=) r.administration_id
	  JOIN @extschema@.client c ON c.id OPERATOR(pg_catalog.=) a.client_id
	  JOIN @extschema@.compartment k ON k.id OPERATOR(pg_catalog.=) a.compartment_id;
COMMENT ON VIEW @extschema@.my_administrations IS
	'the administrations the current identity holds rights on, with codes and names: the first thing a reporting tool reads';
-- every session sees its own scope, and only that
GRANT SELECT ON @extschema@.my_administrations TO PUBLIC;

CREATE VIEW @extschema@.my_clients WITH (security_barrier) AS
	SELECT c.id AS client_id, c.code, c.name,
		   k.id AS compartment_id, k.code AS compartment_code, k.name AS compartment_name
	  FROM @extschema@.client c
	  JOIN @extschema@.compartment k ON k.id OPERATOR(pg_catalog.=) c.compartment_id
	 WHERE c.id IN (SELECT a.client_id
					  FROM @extschema@.my_rights() r
					  JOIN @extschema@.administration a
						ON a.id OPERATOR(pg_catalog.=) r.administration_id);
COMMENT ON VIEW @extschema@.my_clients IS
	'the clients of the administrations the current identity holds rights on';
-- every session sees its own scope, and only that
GRANT SELECT ON @extschema@.my_clients TO PUBLIC;

/* ------------------------------------------------------------------
 * Management (R8-R10, R13), manage.c
 *
 * Not SECURITY DEFINER: the C code checks the caller (member of
 * tenancy_admin, or acting as an administrator of the compartment) and
 * elevates only around its own catalog statements.  Not STRICT: a NULL
 * argument gets an error, not a silent NULL.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.create_subscription(name text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_create_subscription' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.create_subscription(text) IS 'new subscription (platform operators)';

CREATE FUNCTION @extschema@.create_compartment(subscription_id bigint, code text, name text,
	allow_external_users boolean DEFAULT true) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_create_compartment' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.create_compartment(bigint, text, text, boolean) IS
	'new compartment under a subscription (platform operators)';

CREATE FUNCTION @extschema@.create_client(compartment_id bigint, code text, name text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_create_client' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.create_client(bigint, text, text) IS
	'new client in a compartment (platform operators, administrators of the compartment)';

CREATE FUNCTION @extschema@.create_administration(client_id bigint, code text, name text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_create_administration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.create_administration(bigint, text, text) IS
	'new active administration for a client (platform operators, administrators of the compartment)';

CREATE FUNCTION @extschema@.move_administration(administration_id bigint, client_id bigint,
	revoke_external boolean DEFAULT false) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_move_administration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.move_administration(bigint, bigint, boolean) IS
	'move an administration to another client of its compartment; refused while external users of the old client hold rights on it unless revoke_external (R9)';

CREATE FUNCTION @extschema@.add_user(compartment_id bigint, email text, kind text,
	client_id bigint DEFAULT NULL, is_admin boolean DEFAULT false) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_add_user' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.add_user(bigint, text, text, bigint, boolean) IS
	'add an account (created when the e-mail is new) to a compartment as an internal or external user (R8, R10)';

CREATE FUNCTION @extschema@.disable_user(user_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_disable_user' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.disable_user(bigint) IS
	'the user can no longer be acted as, and its sessions lose their rows at the next statement';

CREATE FUNCTION @extschema@.grant_rights(user_id bigint, administration_id bigint, rights text[]) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_grant_rights' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.grant_rights(bigint, bigint, text[]) IS
	'add rights (read, write, submit, manage) of a user on an administration (R7, R8)';

CREATE FUNCTION @extschema@.revoke_rights(user_id bigint, administration_id bigint,
	rights text[] DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_revoke_rights' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.revoke_rights(bigint, bigint, text[]) IS
	'remove rights of a user on an administration; NULL removes all';

DO $grants$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'create_client(bigint, text, text)',
		'create_administration(bigint, text, text)',
		'move_administration(bigint, bigint, boolean)',
		'add_user(bigint, text, text, bigint, boolean)',
		'disable_user(bigint)',
		'grant_rights(bigint, bigint, text[])',
		'revoke_rights(bigint, bigint, text[])']
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION @extschema@.%s FROM PUBLIC', f);
		-- operators manage every compartment
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO tenancy_admin', f);
		-- application servers call them for a compartment administrator they act as
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO tenancy_app', f);
	END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION @extschema@.create_subscription(text) FROM PUBLIC;
-- only operators create subscriptions and compartments
GRANT EXECUTE ON FUNCTION @extschema@.create_subscription(text) TO tenancy_admin;
REVOKE ALL ON FUNCTION @extschema@.create_compartment(bigint, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.create_compartment(bigint, text, text, boolean) TO tenancy_admin;

/* ------------------------------------------------------------------
 * Protected tables (R6, R7, R11, R12), protect.c
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.protect(tbl regclass, administration_column name DEFAULT 'administration_id',
	carry_on_migration boolean DEFAULT true) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_protect' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.protect(regclass, name, boolean) IS
	'enable and force row security on an application table and install the tenancy policies and triggers (table owner with tenancy_admin)';

CREATE FUNCTION @extschema@.unprotect(tbl regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_unprotect' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.unprotect(regclass) IS
	'remove the tenancy policies and triggers from a table (table owner with tenancy_admin)';

REVOKE ALL ON FUNCTION @extschema@.protect(regclass, name, boolean) FROM PUBLIC;
-- table owners who are platform operators protect their tables
GRANT EXECUTE ON FUNCTION @extschema@.protect(regclass, name, boolean) TO tenancy_admin;
REVOKE ALL ON FUNCTION @extschema@.unprotect(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.unprotect(regclass) TO tenancy_admin;

CREATE FUNCTION @extschema@.guard_row() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_guard_row' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.guard_row() IS
	'trigger on protected tables: identity, write right, archive state (R2, R7, R12) and moves within one client (R11)';
-- triggers fire without EXECUTE; only protect() (tenancy_admin) attaches it
REVOKE ALL ON FUNCTION @extschema@.guard_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.guard_row() TO tenancy_admin;

CREATE FUNCTION @extschema@.guard_truncate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_guard_truncate' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.guard_truncate() IS
	'trigger on protected tables: TRUNCATE would bypass row security, so it is refused';
REVOKE ALL ON FUNCTION @extschema@.guard_truncate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.guard_truncate() TO tenancy_admin;

/* ------------------------------------------------------------------
 * Audit log view and verification (R22)
 * ------------------------------------------------------------------ */

CREATE VIEW @extschema@.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.db_role, e.account_id, e.user_id, e.compartment_id,
		   e.action, e.object_type, e.object_id, e.before, e.after
	  FROM @extschema@.audit_entry e
	 WHERE pg_catalog.pg_has_role(CURRENT_USER, 'tenancy_admin', 'MEMBER')
		OR (e.compartment_id OPERATOR(pg_catalog.=) @extschema@.current_compartment_id()
			-- the firm's own staff: an external user does not read other clients' changes
			AND EXISTS (SELECT 1 FROM @extschema@.users u
						 WHERE u.id OPERATOR(pg_catalog.=) @extschema@.current_user_id()
						   AND u.kind OPERATOR(pg_catalog.=) 'internal'));
COMMENT ON VIEW @extschema@.audit_log IS
	'the audit log: platform operators see all of it, a compartment''s internal users only their compartment''s entries (R22)';
-- the view filters by caller
GRANT SELECT ON @extschema@.audit_log TO PUBLIC;

CREATE FUNCTION @extschema@.verify_audit() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT coalesce(
		(SELECT pg_catalog.format('broken at entry %s', x.id)
		   FROM (SELECT e.id,
						e.hash OPERATOR(pg_catalog.=) @extschema@.audit_hash(e.prev_hash, e.at, e.db_role,
							e.account_id, e.user_id, e.compartment_id, e.action,
							e.object_type, e.object_id, e.before, e.after) AS hash_ok,
						e.prev_hash IS NOT DISTINCT FROM
							pg_catalog.lag(e.hash) OVER (ORDER BY e.id) AS link_ok
				   FROM @extschema@.audit_entry e) x
		  WHERE NOT (x.hash_ok AND x.link_ok)
		  ORDER BY x.id LIMIT 1),
		'ok')
$$;
COMMENT ON FUNCTION @extschema@.verify_audit() IS
	'walks the audit chain; returns ok, or names the first entry whose hash or link is broken (R22)';
-- anyone may check the chain; the answer names at most an entry number
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit() TO PUBLIC;
