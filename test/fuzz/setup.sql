-- test/fuzz/setup.sql -- the fuzz database: the regression fixture, a
-- bound reporting login and a protected table the roles may touch
\i test/fixture.sql
RESET ROLE;
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_fuzz_report') THEN
		CREATE ROLE regress_fuzz_report LOGIN;
	END IF;
END
$$;
SELECT tenancy.bind_reporting_login('regress_fuzz_report', :c_cli);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.journal TO regress_app, regress_fuzz_report;
GRANT USAGE ON SEQUENCE public.journal_id_seq TO regress_app;
SELECT :u_admin AS act_as_admin \gset
\echo fuzz_act_as=:act_as_admin
