--
-- manage: R8, R9, R10, R13 -- who may manage what, and bad input refused
-- whole
--
\i test/fixture.sql

-- 1. R13: an administrator of the compartment, acting through the
-- application server, manages its own compartment
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.create_client(:c_cli, 'smit', 'Bakkerij Smit') AS cl_smit \gset
SELECT tenancy.create_administration(:cl_smit, 'smit', 'Bakkerij Smit') AS a_smit \gset
SELECT tenancy.add_user(:c_cli, 'Els@Smit.nl ', 'external', :cl_smit) AS u_els \gset
SELECT tenancy.grant_rights(:u_els, :a_smit, '{read,submit}');		-- ok
SELECT tenancy.revoke_rights(:u_els, :a_smit, '{submit}');			-- ok
-- but nothing in another compartment, and it is not told whether it exists
SELECT tenancy.create_client(:c_other, 'z', 'Z');					-- fails
SELECT tenancy.create_administration(:cl_x, 'z', 'Z');				-- fails
SELECT tenancy.grant_rights(:u_other, :a_x, '{read}');				-- fails
SELECT tenancy.grant_rights(:u_staff, :a_x, '{read}');				-- fails: admin of other firm
-- revoke_rights answers alike, and changes nothing (it used to succeed
-- silently, unaudited, for any administration id)
SELECT tenancy.revoke_rights(:u_staff, :a_x);						-- fails: as grant_rights
SELECT tenancy.revoke_rights(:u_staff, 999999);						-- fails: the same words
SELECT tenancy.create_client(999999, 'z', 'Z');						-- fails: same words as above
SELECT tenancy.disable_user(:u_other);								-- fails
SELECT tenancy.create_subscription('Mine');							-- fails: operators only
SELECT tenancy.create_compartment(:sub_bakker, 'mine', 'Mine');		-- fails: operators only
-- a staff member who is not an administrator manages nothing
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read}');			-- fails: not an administrator
SELECT tenancy.create_client(:c_cli, 'z', 'Z');						-- fails
SELECT tenancy.reset();
-- without an identity the application server manages nothing
SELECT tenancy.create_client(:c_cli, 'z', 'Z');						-- fails: no identity is set (R2, R13)
RESET ROLE;
-- a plain login may not even call the functions
SET ROLE regress_plain;
SELECT tenancy.create_client(:c_cli, 'z', 'Z');						-- fails
RESET ROLE;
-- a platform operator manages every compartment
SET ROLE regress_operator;
SELECT tenancy.create_client(:c_other, 'z', 'Z BV') > 0 AS created;	-- ok
SELECT tenancy.create_client(999999, 'z', 'Z');						-- fails: does not exist
RESET ROLE;

-- 2. bad input, refused whole
SELECT count(*) AS accounts_before FROM tenancy.account \gset
SELECT tenancy.create_subscription(NULL);							-- fails
SELECT tenancy.create_subscription('  ');							-- fails
SELECT tenancy.create_compartment(NULL, 'c', 'C');					-- fails
SELECT tenancy.create_compartment(:sub_bakker, 'bk-own', 'Again');	-- fails: duplicate code
SELECT tenancy.create_compartment(:sub_bakker, 'bad code', 'X');	-- fails: invalid code
SELECT tenancy.create_compartment(999999, 'new', 'X');				-- fails: unknown subscription
SELECT tenancy.create_client(:c_cli, 'vries', 'Again');				-- fails: duplicate code
SELECT tenancy.create_client(:c_cli, NULL, 'X');					-- fails
SELECT tenancy.create_administration(:cl_vries, 'vries-hold', 'Again');	-- fails: duplicate code
SELECT tenancy.add_user(:c_cli, 'not-an-address', 'internal');		-- fails: e-mail
SELECT tenancy.add_user(:c_cli, 'new@x.nl', 'guest');				-- fails: kind
SELECT tenancy.add_user(:c_cli, 'new@x.nl', 'internal', :cl_vries);	-- fails: internal with client
SELECT tenancy.add_user(:c_cli, 'new@x.nl', 'external');			-- fails: external without client
SELECT tenancy.add_user(:c_cli, 'new@x.nl', 'external', :cl_vries, true);	-- fails: external admin
SELECT tenancy.add_user(:c_cli, 'new@x.nl', 'external', :cl_x);		-- fails: client elsewhere
SELECT tenancy.add_user(:c_noext, 'new@x.nl', 'external', NULL);	-- fails: no client
SELECT tenancy.add_user(:c_cli, 'SAM@bakker.nl', 'internal');		-- fails: already a user here
SELECT count(*) = :accounts_before AS no_account_left_behind FROM tenancy.account;
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{}');				-- fails: no right
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read,own}');		-- fails: unknown right
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read,NULL}');		-- fails: null right
SELECT tenancy.grant_rights(:u_staff, :a_ops2, NULL);				-- fails
SELECT tenancy.grant_rights(999999, :a_ops2, '{read}');				-- fails: unknown user
SELECT tenancy.grant_rights(:u_staff, 999999, '{read}');			-- fails: unknown administration
SELECT tenancy.grant_rights(:u_staff, :a_x, '{read}');				-- fails: other compartment
SELECT tenancy.revoke_rights(:u_staff, 999999);						-- fails: unknown administration
SELECT tenancy.revoke_rights(:u_staff, :a_x);						-- fails: other compartment

-- 3. R10: one account across compartments, found case-insensitively
SELECT tenancy.add_user(:c_other, '  ANNA@Bakker.NL', 'internal') AS u_anna_other \gset
SELECT count(DISTINCT account_id) AS accounts_of_anna
  FROM tenancy.users WHERE id IN (:u_admin, :u_own_admin, :u_anna_other);
SELECT email FROM tenancy.account a JOIN tenancy.users u ON u.account_id = a.id
 WHERE u.id = :u_anna_other;
SELECT tenancy.add_user(:c_noext, 'new@x.nl', 'external', :cl_x);	-- fails: client elsewhere

-- 4. R8: an external user only on its own client's administrations
SELECT tenancy.grant_rights(:u_piet, :a_jansen, '{read}');			-- fails
SELECT tenancy.grant_rights(:u_jan, :a_jansen, '{manage}');			-- ok

-- 5. R9: moving an administration to another client
SELECT tenancy.move_administration(:a_ops1, :cl_jansen);			-- fails: piet holds rights
SELECT tenancy.move_administration(:a_ops1, :cl_x);					-- fails: other compartment
SELECT tenancy.move_administration(:a_ops1, :cl_jansen, revoke_external => true);	-- ok
SELECT a.client_id = :cl_jansen AS moved,
	   (SELECT count(*) FROM tenancy.permission p WHERE p.administration_id = :a_ops1
		  AND p.user_id = :u_piet) AS piet_rights,
	   (SELECT count(*) FROM tenancy.permission p WHERE p.administration_id = :a_ops1
		  AND p.user_id = :u_staff) AS staff_rights
  FROM tenancy.administration a WHERE a.id = :a_ops1;
SELECT tenancy.move_administration(:a_ops1, :cl_jansen);			-- ok: already there

-- 6. disable_user
SELECT tenancy.disable_user(:u_staff);
SELECT disabled FROM tenancy.users WHERE id = :u_staff;

-- 7. one situation, one SQLSTATE: an unknown client named by an operator is
-- 42704 (undefined_object) in every function that takes one; a call
-- without an identity is 55000, whatever it manages
SET ROLE regress_operator;
SELECT tenancy.add_user(:c_cli, 'new@devries.nl', 'external', 999999);	-- fails: no client 999999
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT tenancy.move_administration(:a_ops2, 999999);					-- fails: no client 999999
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT tenancy.bind_reporting_login('regress_plain', :c_cli, 999999);	-- fails: no client 999999
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.add_user(:c_cli, 'new@devries.nl', 'internal');			-- fails: no identity is set
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read}');				-- fails: no identity is set
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET ROLE;

-- 8. R8, R13: an external user (a client's) manages nothing, and its
-- refusals tell it nothing of the firm's other clients: its own objects,
-- another client's and an id nobody uses get one answer (1.3's last
-- attack: "permission denied to manage compartment" for another client's,
-- "does not exist or is not accessible" for an unknown id, listed which
-- clients and users the firm has)
CREATE FUNCTION pg_temp.refusal(call text, id bigint) RETURNS text
	LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
	detail text;
	hint text;
BEGIN
	EXECUTE format(call, id);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', state, replace(msg, id::text, '<id>'), detail, hint);
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(text, bigint) TO PUBLIC;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan) \gset
SELECT c.what, pg_temp.refusal(c.call, c.id) = pg_temp.refusal(c.call, 999999) AS same_answer,
	   pg_temp.refusal(c.call, c.id) AS answer
  FROM (VALUES
	('vries, another client', 'SELECT tenancy.create_administration(%s, ''zz'', ''zz'')', :cl_vries),
	('jansen, its own client', 'SELECT tenancy.create_administration(%s, ''zz'', ''zz'')', :cl_jansen),
	('piet, another client''s user', 'SELECT tenancy.disable_user(%s)', :u_piet),
	('jan, itself', 'SELECT tenancy.disable_user(%s)', :u_jan),
	('piet, another client''s user', 'SELECT tenancy.grant_rights(%s, ' || :a_jansen || ', ''{read}'')', :u_piet),
	('vries-hold, another client''s', 'SELECT tenancy.move_administration(%s, ' || :cl_jansen || ')', :a_hold),
	('jansen, its own administration', 'SELECT tenancy.move_administration(%s, ' || :cl_jansen || ')', :a_jansen),
	('bk-clients, its own compartment', 'SELECT tenancy.create_client(%s, ''zz'', ''zz'')', :c_cli),
	('bk-clients, its own compartment', 'SELECT tenancy.add_user(%s, ''z@z.nl'', ''external'', ' || :cl_jansen || ')', :c_cli)
  ) c(what, call, id);														-- ok: t everywhere, one answer
SELECT tenancy.reset() \gset
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
