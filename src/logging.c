/*-------------------------------------------------------------------------
 *
 * logging.c
 *	  Who a log entry was for: the acting tenancy user and compartment in
 *	  the server log.
 *
 * A DBA who finds a slow statement, a deadlock or an error in the server
 * log wants to know which firm and which user it was for; that identity
 * lives only in tenancy.  An emit_log_hook adds it to every entry that a
 * backend with an identity writes to the server log, as a DETAIL line:
 *
 *	   LOG:  duration: 812.345 ms  statement: SELECT ...
 *	   DETAIL:  tenancy user 42, compartment 7
 *
 * It goes into the log-only detail (errdetail_log), so clients never see
 * it and their error messages do not change.  An entry that already has a
 * DETAIL keeps it, followed by the identity on its own line.  Entries of a
 * session without an identity are left alone.  The hook reads the identity
 * from backend memory only (no catalog access: it may run in an aborted
 * transaction or while an error is being reported), and allocates in the
 * error context that elog.c resets after the entry is written.
 *
 * tenancy.log_identity (boolean, default on) switches it.  It is
 * PGC_SUSET: only a superuser may change it, since a session that could
 * switch it off could hide who it acts as from the log.
 *
 * No view of every backend's identity is offered beside pg_stat_activity:
 * that would need shared memory, hence shared_preload_libraries, which
 * tenancy does not require.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/elog.h"
#include "utils/guc.h"

#include "tenancy.h"

static bool log_identity = true;
static emit_log_hook_type prev_emit_log_hook = NULL;

static void tenancy_emit_log(ErrorData *edata);

/*
 * tenancy_logging_init: define tenancy.log_identity and install the hook
 * (called from _PG_init)
 */
void
tenancy_logging_init(void)
{
	DefineCustomBoolVariable("tenancy.log_identity",
							 "Adds the acting tenancy user and compartment to each server log entry.",
							 "Only a superuser may change it: a session must not hide who it acts as.",
							 &log_identity,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = tenancy_emit_log;
}

/*
 * tenancy_emit_log: append "tenancy user N, compartment M" to the log-only
 * detail of an entry written by a session with an identity
 */
static void
tenancy_emit_log(ErrorData *edata)
{
	const TenancyIdentity *ident = tenancy_identity_current();

	if (log_identity && edata->output_to_server && ident != NULL &&
		ident->user_id != 0)
	{
		StringInfoData buf;
		const char *detail = edata->detail_log ? edata->detail_log : edata->detail;

		initStringInfo(&buf);
		if (detail != NULL)
			appendStringInfo(&buf, "%s\n", detail);
		appendStringInfo(&buf, "tenancy user %lld, compartment %lld",
						 (long long) ident->user_id,
						 (long long) ident->compartment_id);
		edata->detail_log = buf.data;
	}

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}
