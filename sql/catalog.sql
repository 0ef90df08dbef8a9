--
-- catalog: R6, R8, R9, R10 -- the invariants hold for a superuser's plain
-- INSERT and UPDATE too, not only through the functions
--
\i test/fixture.sql

-- 1. R8: a permission of an external user lies inside its own client
INSERT INTO tenancy.permission (user_id, administration_id, can_read)
	VALUES (:u_piet, :a_jansen, true);								-- fails: other client
-- a forged user_client_id is overwritten from the user
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, user_client_id, can_read)
	VALUES (:u_piet, :a_jansen, :c_cli, :cl_jansen, true);			-- fails: other client
INSERT INTO tenancy.permission (user_id, administration_id, can_read)
	VALUES (:u_staff, :a_jansen, true);								-- ok: internal user
-- 2. R6: never across compartments
INSERT INTO tenancy.permission (user_id, administration_id, can_read)
	VALUES (:u_staff, :a_x, true);									-- fails: other compartment
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read)
	VALUES (:u_other, :a_hold, :c_cli, true);						-- fails: other compartment
INSERT INTO tenancy.administration (compartment_id, client_id, code, name)
	VALUES (:c_other, :cl_vries, 'stray', 'Stray');					-- fails: client of another compartment
INSERT INTO tenancy.permission (user_id, administration_id)
	VALUES (:u_staff, :a_ops2);										-- fails: no right at all

-- 3. R9: an administration does not leave a client whose external users
-- hold rights on it
UPDATE tenancy.administration SET client_id = :cl_jansen WHERE id = :a_ops1;	-- fails
UPDATE tenancy.administration SET client_id = :cl_x WHERE id = :a_ops1;	-- fails: other compartment
-- a user does not change client under its rights
UPDATE tenancy.users SET client_id = :cl_jansen WHERE id = :u_piet;	-- fails

-- 4. R10: one account per e-mail, case-insensitively; one user per
-- account and compartment; valid addresses only
INSERT INTO tenancy.account (email) VALUES ('PIET@devries.nl');		-- fails: duplicate
INSERT INTO tenancy.account (email) VALUES (' lisa@bakker.nl');		-- fails: not trimmed
INSERT INTO tenancy.account (email) VALUES ('lisa@bakker');			-- fails: invalid
INSERT INTO tenancy.account (email) VALUES ('lisa@@bakker.nl');		-- fails: invalid
INSERT INTO tenancy.users (compartment_id, account_id, kind)
	SELECT :c_cli, account_id, 'internal' FROM tenancy.users WHERE id = :u_staff;	-- fails: second user
INSERT INTO tenancy.users (compartment_id, account_id, kind, client_id)
	SELECT :c_cli, account_id, 'internal', :cl_vries FROM tenancy.users WHERE id = :u_other;	-- fails: internal with client
INSERT INTO tenancy.users (compartment_id, account_id, kind, is_admin, client_id)
	SELECT :c_cli, account_id, 'external', true, :cl_vries FROM tenancy.users WHERE id = :u_other;	-- fails: external admin
-- a compartment may forbid external users
INSERT INTO tenancy.client (compartment_id, code, name) VALUES (:c_noext, 'y', 'Y') RETURNING id AS cl_y \gset
INSERT INTO tenancy.users (compartment_id, account_id, kind, client_id)
	SELECT :c_noext, account_id, 'external', :cl_y FROM tenancy.users WHERE id = :u_piet;	-- fails
UPDATE tenancy.compartment SET allow_external_users = false WHERE id = :c_cli;	-- fails: has externals
UPDATE tenancy.compartment SET allow_external_users = false WHERE id = :c_own;	-- ok: none
-- codes are unique per compartment
INSERT INTO tenancy.administration (compartment_id, client_id, code, name)
	VALUES (:c_cli, :cl_jansen, 'vries-hold', 'Twin');				-- fails: duplicate code
INSERT INTO tenancy.administration (compartment_id, client_id, code, name)
	VALUES (:c_other, :cl_x, 'vries-hold', 'Same code elsewhere');	-- ok: other compartment

-- 5. the catalog is closed to everyone but its owner
SET ROLE regress_app;
SELECT count(*) FROM tenancy.permission;							-- fails
INSERT INTO tenancy.permission (user_id, administration_id, can_read)
	VALUES (:u_piet, :a_hold, true);								-- fails
RESET ROLE;
SET ROLE regress_operator;
SELECT count(*) FROM tenancy.users;									-- fails: through the functions only
RESET ROLE;

-- 6. R22: even the owner changes rights only in ways the audit log shows;
-- TRUNCATE writes no entry, and the backends' caches learn what changed
-- from the entries, so it is refused
TRUNCATE tenancy.permission;										-- fails
TRUNCATE tenancy.delegation;										-- fails
SELECT count(*) > 0 AS permissions_kept FROM tenancy.permission;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
