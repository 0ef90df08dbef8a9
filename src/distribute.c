/*-------------------------------------------------------------------------
 *
 * distribute.c
 *	  Scale-out with Citus: distribute() and the replicas of the catalog
 *	  that the workers' checks read (R25).
 *
 * distribute() protects a table (protect.c) and distributes it with
 * Citus's create_distributed_table() by its administration column,
 * colocated with the protected tables distributed before it.  Three
 * things of Citus shape it:
 *
 *	- Citus re-creates a table's policies on every shard (at distribution,
 *	  shard move, split and rebalance) from its policy deparser, which never
 *	  writes AS RESTRICTIVE: the wall tenancy_wall would become a permissive
 *	  policy, OR'ed with the right policies, and open every row of the
 *	  compartment.  So a distributed table carries no wall policy: each of
 *	  its four permissive policies (read, insert, update, delete) implies
 *	  the wall by construction, since a right exists only inside the wall or
 *	  through a delegation (visibility.c's invariant), and protect() refuses
 *	  a table with a policy of its own.  check() verifies it on every shard.
 *	- Citus refuses to distribute a table with triggers unless
 *	  citus.enable_unsafe_triggers is on; distribute() turns it on for its
 *	  own call only.  Once distributed, Citus copies the table's triggers
 *	  to every shard it creates (moves and splits too), so the guard and
 *	  TRUNCATE triggers follow the shards.  Left off (Citus's default), a
 *	  plain create_distributed_table() of a protected table is refused.
 *	- A query on a Citus table from inside a shard query is refused, so the
 *	  workers cannot ask the coordinator's catalog.
 *
 * The replicas.  The coordinator's catalog tables stay local and
 * authoritative (their triggers, the audit chain written once).  What the
 * visibility cache reads (probe.c and the cache's loads: users,
 * administration, permission, reporting_login, delegation, migration; only
 * the columns read) is copied into reference tables
 * tenancy.replica_<table>, with the primary key and the index the probes
 * use named replica_<index>.  distribute() creates and
 * fills them on first use; from then on three statement triggers per
 * catalog table (tenancy_replicate_insert/update/delete, with transition
 * tables) write every change into the replica in the same transaction:
 * Citus commits the placements with two-phase commit, so a grant or a
 * revoke reaches every node with the coordinator's commit or not at all.
 * The triggers hand the changed rows over as one jsonb array (Citus cannot
 * read a transition table in a query on a reference table): one statement
 * per catalog statement, never per row, and bump the single row of the
 * reference table tenancy.replica_version.  Workers read the placements by
 * index (probe.c), and their caches keep what they read while that version
 * stays the same (visibility.c): a worker receives no invalidation from the
 * coordinator's catalog.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "tenancy.h"

/* one replicated catalog table */
typedef struct TenancyReplica
{
	const char *table;			/* catalog table in schema tenancy */
	const char *columns;		/* the columns probe.c reads */
	const char *key;			/* its primary key */
	const char *index;			/* the other index probe.c reads, or NULL */
	const char *index_column;
	const char *hashed;			/* the columns as check() hashes them, or NULL:
								 * columns (timestamps as epochs, the same
								 * text on every node whatever its TimeZone) */
} TenancyReplica;

static const TenancyReplica replicas[] = {
	{"users", "id, compartment_id, account_id, disabled", "id", NULL, NULL, NULL},
	{"administration", "id, compartment_id, client_id, state, code", "id", NULL, NULL, NULL},
	{"permission", "user_id, administration_id, can_read, can_write, can_submit, can_manage",
	"user_id, administration_id", NULL, NULL, NULL},
	/* the role by name: every node gives it another OID (see probe.c) */
	{"reporting_login", "role::pg_catalog.text AS role, compartment_id, client_id,"
		" administration_codes", "role",
	NULL, NULL, "role::pg_catalog.text, compartment_id, client_id, administration_codes"},
	{"delegation", "id, administration_id, to_user_id, valid_until, revoked_at,"
		" can_read, can_write, can_submit, can_manage",
		"id", "delegation_administration_idx", "administration_id",
		"id, administration_id, to_user_id, pg_catalog.date_part('epoch', valid_until),"
	" pg_catalog.date_part('epoch', revoked_at), can_read, can_write, can_submit, can_manage"},
	{"migration", "id, administration_id, scenario, state, target_compartment_id, successor_id",
	"id", "migration_administration_idx", "administration_id", NULL},
};

static void require_coordinator(const char *function, const char *single_node);
static bool query_bool(const char *sql);
static void ensure_replicas(void);
static void fill_replica(const TenancyReplica *r);
static void replicate_rows(const TenancyReplica *r, const char *transition, bool insert);
static const TenancyReplica *replica_of(const char *table);
static Datum transition_rows(const char *table_name);
static bool node_agrees(const char *success, const char *result, const char *expected);

/*
 * What check() compares between a distributed table and each of its
 * shards, run on the table and (by run_command_on_shards) on every
 * placement: row security, every policy with its kind and expressions,
 * every trigger with its state, shard ids cut off the names.  The
 * relation is argument 1, a text expression: on the workers Citus's
 * format() puts in the shard's name with %1$L.  The workers run it as the
 * extension's owner under their own search_path, so every operator and
 * function in it names pg_catalog (a planted "=(oid, regclass)" or
 * "||(text, boolean)" would match better than pg_catalog's).
 */
#define WALLS_QUERY \
	"SELECT pg_catalog.concat_ws(' ; '," \
	" (SELECT pg_catalog.concat('rls ', relrowsecurity::pg_catalog.text, '/'," \
	"                           relforcerowsecurity::pg_catalog.text)" \
	"    FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) %1$s::pg_catalog.regclass)," \
	" (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', 'policy', polname::pg_catalog.text," \
	"         polcmd::pg_catalog.text," \
	"         CASE WHEN polpermissive THEN 'permissive' ELSE 'restrictive' END," \
	"         coalesce(pg_catalog.pg_get_expr(polqual, polrelid), '-')," \
	"         coalesce(pg_catalog.pg_get_expr(polwithcheck, polrelid), '-')), ' ; ' ORDER BY polname)" \
	"    FROM pg_catalog.pg_policy WHERE polrelid OPERATOR(pg_catalog.=) %1$s::pg_catalog.regclass)," \
	" (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', 'trigger'," \
	"         pg_catalog.regexp_replace(tgname::pg_catalog.text, '_[0-9]+$', '')," \
	"         tgenabled::pg_catalog.text), ' ; ' ORDER BY tgname)" \
	"    FROM pg_catalog.pg_trigger WHERE tgrelid OPERATOR(pg_catalog.=) %1$s::pg_catalog.regclass" \
	"     AND NOT tgisinternal))"

/* a boolean query, through SPI */
static bool
query_bool(const char *sql)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "query failed: %s", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * node_agrees: did a command that run_command_on_shards or
 * run_command_on_placements ran on a node succeed, with the coordinator's
 * result?
 */
static bool
node_agrees(const char *success, const char *result, const char *expected)
{
	return success != NULL && strcmp(success, "t") == 0 &&
		result != NULL && expected != NULL && strcmp(result, expected) == 0;
}

/*
 * require_coordinator: Citus is installed in this database and this node
 * is its coordinator; function names the caller, single_node says what to
 * do without Citus
 */
static void
require_coordinator(const char *function, const char *single_node)
{
	if (!OidIsValid(get_extension_oid("citus", true)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"citus\" is not installed in this database"),
				 errdetail("%s works on a Citus cluster.", function),
				 errhint("%s", single_node)));
	if (!query_bool("SELECT pg_catalog.citus_is_coordinator()"))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s runs on the Citus coordinator", function),
				 errhint("Connect to the coordinator and call %s there.", function)));
}

/* the replica of a catalog table, or NULL */
static const TenancyReplica *
replica_of(const char *table)
{
	int			i;

	for (i = 0; i < lengthof(replicas); i++)
		if (strcmp(replicas[i].table, table) == 0)
			return &replicas[i];
	return NULL;
}

/* fill_replica: the replica holds what its catalog table holds, now */
static void
fill_replica(const TenancyReplica *r)
{
	tenancy_catalog_run("DELETE FROM tenancy.replica_%s", r->table);
	tenancy_catalog_run("INSERT INTO tenancy.replica_%s SELECT %s FROM tenancy.%s",
		r->table, r->columns, r->table);
}

/*
 * ensure_replicas: create, distribute as reference tables and fill the
 * replicas, and attach the triggers that keep them, unless done before.
 * Runs as the catalog owner (elevated by the caller), inside SPI.
 */
static void
ensure_replicas(void)
{
	int			i;

	if (OidIsValid(tenancy_catalog_relid("replica_users")))
		return;
	for (i = 0; i < lengthof(replicas); i++)
	{
		const TenancyReplica *r = &replicas[i];

		tenancy_catalog_run("CREATE TABLE tenancy.replica_%s AS SELECT %s FROM tenancy.%s WITH NO DATA",
			r->table, r->columns, r->table);
		tenancy_catalog_run("ALTER TABLE tenancy.replica_%s ADD CONSTRAINT replica_%s_pkey PRIMARY KEY (%s)",
			r->table, r->table, r->key);
		if (r->index != NULL)
			tenancy_catalog_run("CREATE INDEX replica_%s ON tenancy.replica_%s (%s)",
				r->index, r->table, r->index_column);
		tenancy_catalog_run("REVOKE ALL ON tenancy.replica_%s FROM PUBLIC", r->table);
		tenancy_catalog_run("COMMENT ON TABLE tenancy.replica_%s IS"
			" 'copy of what the Citus workers read of tenancy.%s, kept by trigger in the"
			" coordinator''s transactions (reference table)'",
			r->table, r->table);
		tenancy_catalog_run("SELECT pg_catalog.create_reference_table('tenancy.replica_%s')", r->table);
		fill_replica(r);
		tenancy_catalog_run("CREATE TRIGGER tenancy_replicate_insert AFTER INSERT ON tenancy.%s"
			" REFERENCING NEW TABLE AS tenancy_new"
			" FOR EACH STATEMENT EXECUTE FUNCTION tenancy.replicate()", r->table);
		tenancy_catalog_run("CREATE TRIGGER tenancy_replicate_update AFTER UPDATE ON tenancy.%s"
			" REFERENCING OLD TABLE AS tenancy_old NEW TABLE AS tenancy_new"
			" FOR EACH STATEMENT EXECUTE FUNCTION tenancy.replicate()", r->table);
		tenancy_catalog_run("CREATE TRIGGER tenancy_replicate_delete AFTER DELETE ON tenancy.%s"
			" REFERENCING OLD TABLE AS tenancy_old"
			" FOR EACH STATEMENT EXECUTE FUNCTION tenancy.replicate()", r->table);
	}
	/* the version the workers' caches compare (see replicate()) */
	tenancy_catalog_run("CREATE TABLE tenancy.replica_version (id int PRIMARY KEY CHECK (id = 1),"
		" version bigint NOT NULL)");
	tenancy_catalog_run("REVOKE ALL ON tenancy.replica_version FROM PUBLIC");
	tenancy_catalog_run("COMMENT ON TABLE tenancy.replica_version IS"
		" 'bumped with every change of the replicas: a Citus worker''s cache is valid while it"
		" stays the same (reference table)'");
	tenancy_catalog_run("SELECT pg_catalog.create_reference_table('tenancy.replica_version')");
	tenancy_catalog_run("INSERT INTO tenancy.replica_version VALUES (1, 1)");
}

/*
 * tenancy_distribute_is_citus_table: does Citus's pg_dist_partition list
 * the relation (a distributed, reference or Citus local table)?  False
 * without Citus.  protect() refuses such a table (see protect.c).
 */
bool
tenancy_distribute_is_citus_table(Oid relid)
{
	Oid			catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			index = get_relname_relid("pg_dist_partition_logical_relid_index",
										  PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(catalog))
		return false;
	rel = table_open(catalog, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	/* by Citus's unique index on logicalrelid (a scan if it were missing) */
	scan = systable_beginscan(rel, index, OidIsValid(index), NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* distribute(tbl regclass, administration_column name DEFAULT 'administration_id',
 *			  carry_on_migration boolean DEFAULT true) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_distribute);
Datum
tenancy_distribute(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *column;
	char	   *rel;
	char	   *colocate = NULL;
	TenancyElevation save;
	Oid			argtypes[3] = {OIDOID, NAMEOID, BOOLOID};
	Datum		values[3];
	int			nestlevel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("tbl and administration_column must not be null"),
				 errhint("Name the table and the column that holds the administration id.")));
	relid = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));

	SPI_connect();
	require_coordinator("tenancy.distribute()",
						"On a single node, protect the table with tenancy.protect().");
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tenancy.distribute() does not distribute partitioned tables"),
				 errhint("Distribute a plain table, or protect the partitioned table on one node.")));

	/*
	 * protect() checks the caller (owner, tenancy_admin), the table (not
	 * yet a Citus table) and the column
	 */
	values[0] = ObjectIdGetDatum(relid);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = BoolGetDatum(tenancy_catalog_bool_arg(fcinfo, 2, "carry_on_migration"));
	if (SPI_execute_with_args("SELECT tenancy.protect($1, $2, $3)", 3, argtypes, values,
							  NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "tenancy.protect() failed");

	/* no wall policy on a distributed table (see the file header) */
	rel = tenancy_catalog_relation_name(relid);
	tenancy_ddl_own_begin(list_make1_oid(relid));
	tenancy_catalog_run("DROP POLICY tenancy_wall ON %s", rel);
	tenancy_ddl_own_end();

	tenancy_catalog_elevate(&save);
	ensure_replicas();
	if (SPI_execute_with_args("SELECT p.logicalrelid::pg_catalog.text"
							  "  FROM pg_catalog.pg_dist_partition p"
							  "  JOIN tenancy.protected_table t ON t.relid = p.logicalrelid"
							  " WHERE p.partmethod = 'h' AND p.logicalrelid <> $1"
							  " ORDER BY p.logicalrelid LIMIT 1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "lookup of colocated tables failed");
	if (SPI_processed == 1)
		colocate = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	tenancy_catalog_restore(&save);

	/* as the caller, who owns the table; Citus copies its triggers to the shards */
	nestlevel = tenancy_catalog_pin_search_path();
	(void) set_config_option("citus.enable_unsafe_triggers", "on",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	tenancy_citus_guard_distribute_begin(relid);
	PG_TRY();
	{
		tenancy_catalog_run("SELECT pg_catalog.create_distributed_table(%s, %s, colocate_with => %s)",
			quote_literal_cstr(rel), quote_literal_cstr(column),
			quote_literal_cstr(colocate != NULL ? colocate : "default"));
	}
	PG_FINALLY();
	{
		tenancy_citus_guard_distribute_end();
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nestlevel);

	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * transition_rows: the rows of a transition table of the firing trigger,
 * as one jsonb array (NULL when empty)
 */
static Datum
transition_rows(const char *table_name)
{
	char	   *sql = psprintf("SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)) FROM %s r",
							   table_name);
	bool		isnull;
	Datum		d;

	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read transition table %s", table_name);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	pfree(sql);
	return isnull ? (Datum) 0 : d;
}

/*
 * replicate_rows: the rows of a transition table out of the replica (by
 * key), and with insert back in as they are now.  Deleting the keys of the
 * new rows first makes an insert of a key the replica holds already (a
 * replica that a change made with triggers off left behind) an update.
 */
static void
replicate_rows(const TenancyReplica *r, const char *transition, bool insert)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		values[1];
	char	   *sql;

	values[0] = transition_rows(transition);
	if (values[0] == (Datum) 0)
		return;
	sql = psprintf("DELETE FROM tenancy.replica_%s WHERE (%s) IN"
				   " (SELECT %s FROM pg_catalog.jsonb_populate_recordset("
				   "NULL::tenancy.replica_%s, $1))",
				   r->table, r->key, r->key, r->table);
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0) < 0)
		elog(ERROR, "could not replicate a change of tenancy.%s", r->table);
	pfree(sql);
	if (!insert)
		return;
	sql = psprintf("INSERT INTO tenancy.replica_%s SELECT * FROM"
				   " pg_catalog.jsonb_populate_recordset(NULL::tenancy.replica_%s, $1)",
				   r->table, r->table);
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0) < 0)
		elog(ERROR, "could not replicate a change of tenancy.%s", r->table);
	pfree(sql);
}

/*
 * replicate() RETURNS trigger: AFTER INSERT, UPDATE or DELETE FOR EACH
 * STATEMENT on a catalog table, with transition tables tenancy_old and
 * tenancy_new: write the change into the table's replica (see the header)
 */
PG_FUNCTION_INFO_V1(tenancy_replicate);
Datum
tenancy_replicate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const TenancyReplica *r;
	TenancyElevation save;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		RelationGetNamespace(trigdata->tg_relation) != tenancy_catalog_namespace() ||
		(r = replica_of(RelationGetRelationName(trigdata->tg_relation))) == NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"replicate\" must be fired AFTER ... FOR EACH STATEMENT on a catalog table of tenancy")));

	SPI_connect();
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "could not register the transition tables");
	tenancy_catalog_elevate(&save);
	if (trigdata->tg_oldtable != NULL)
		replicate_rows(r, "tenancy_old", false);
	if (trigdata->tg_newtable != NULL)
		replicate_rows(r, "tenancy_new", true);
	/* the workers' caches drop what they read before (visibility.c) */
	tenancy_catalog_run("UPDATE tenancy.replica_version SET version = version + 1 WHERE id = 1");
	tenancy_catalog_restore(&save);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * shard_problems() RETURNS TABLE (object text, problem text): for check(),
 * the shards of distributed protected tables whose row security, policies
 * or triggers differ from their table's (R23, R25); nothing without Citus
 */
PG_FUNCTION_INFO_V1(tenancy_shard_problems);
Datum
tenancy_shard_problems(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TenancyElevation save;
	List	   *tables = NIL;
	ListCell   *lc;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	if (!OidIsValid(get_extension_oid("citus", true)))
		return (Datum) 0;

	SPI_connect();
	tenancy_catalog_elevate(&save);
	if (SPI_execute("SELECT p.logicalrelid::pg_catalog.oid FROM pg_catalog.pg_dist_partition p"
					"  JOIN tenancy.protected_table t ON t.relid = p.logicalrelid"
					" WHERE p.partmethod = 'h' ORDER BY 1", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "lookup of distributed protected tables failed");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		tables = lappend_oid(tables, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc,
																	1, &isnull)));
	}
	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *rel = tenancy_catalog_relation_name(relid);
		char	   *lit = quote_literal_cstr(rel);
		char	   *expected;
		Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
		Datum		values[2];

		CHECK_FOR_INTERRUPTS();
		/* the table's own walls, as its shards should carry them */
		if (SPI_execute(psprintf(WALLS_QUERY, lit), true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "reading the walls of %s failed", rel);
		expected = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		values[0] = ObjectIdGetDatum(relid);
		/*
		 * run_command_on_shards puts the shard's name in with format(); Citus
		 * leaves it unqualified for a table in public, which the worker would
		 * then look up in its owner's path ("$user" first)
		 */
		values[1] = CStringGetTextDatum(psprintf(WALLS_QUERY,
												 strcmp(get_namespace_name(get_rel_namespace(relid)),
														"public") == 0 ?
												 "pg_catalog.concat('public.', %1$L)" : "%1$L"));
		if (SPI_execute_with_args("SELECT shardid, success, result"
								  "  FROM pg_catalog.run_command_on_shards($1, $2)"
								  " ORDER BY shardid",
								  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "reading the walls of the shards of %s failed", rel);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *shardid = SPI_getvalue(tuple, desc, 1);
			char	   *success = SPI_getvalue(tuple, desc, 2);
			char	   *result = SPI_getvalue(tuple, desc, 3);
			Datum		row[2];
			bool		nulls[2] = {false, false};

			if (node_agrees(success, result, expected))
				continue;
			row[0] = CStringGetTextDatum(rel);
			if (success == NULL || strcmp(success, "t") != 0)
				row[1] = CStringGetTextDatum(psprintf("shard %s could not be inspected: %s",
													  shardid, result ? result : ""));
			else
				row[1] = CStringGetTextDatum(psprintf("shard %s has other walls than its table: %s",
													  shardid, result ? result : ""));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
		}
	}
	tenancy_catalog_restore(&save);
	SPI_finish();
	return (Datum) 0;
}

/*
 * distributed_tables() RETURNS SETOF oid: for check(), the tables Citus
 * distributes by hash; nothing without Citus
 */
PG_FUNCTION_INFO_V1(tenancy_distributed_tables);
Datum
tenancy_distributed_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		i;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (!OidIsValid(get_extension_oid("citus", true)))
		return (Datum) 0;
	SPI_connect();
	if (SPI_execute("SELECT logicalrelid::pg_catalog.oid FROM pg_catalog.pg_dist_partition"
					" WHERE partmethod = 'h'", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "lookup of distributed tables failed");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull = false;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * resync_replicas() RETURNS void: copy the catalog into the replicas again,
 * in one transaction (after a restore, or a change made with triggers off:
 * session_replication_role = replica, pg_restore --disable-triggers), and
 * make every worker's cache start over
 */
PG_FUNCTION_INFO_V1(tenancy_resync_replicas);
Datum
tenancy_resync_replicas(PG_FUNCTION_ARGS)
{
	TenancyElevation save;
	int			i;

	if (!tenancy_catalog_is_operator())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to resynchronize the replicas"),
				 errhint("Only members of role \"%s\" may call it.", TENANCY_ADMIN_ROLE)));
	SPI_connect();
	require_coordinator("tenancy.resync_replicas()",
						"On a single node the catalog has no replicas to copy it into.");
	if (!OidIsValid(tenancy_catalog_relid("replica_users")))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there are no replicas to resynchronize"),
				 errdetail("The first tenancy.distribute() creates them."),
				 errhint("Distribute a protected table with tenancy.distribute().")));
	tenancy_catalog_elevate(&save);
	for (i = 0; i < lengthof(replicas); i++)
		fill_replica(&replicas[i]);
	tenancy_catalog_run("UPDATE tenancy.replica_version SET version = version + 1 WHERE id = 1");
	tenancy_catalog_restore(&save);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * replica_problems() RETURNS TABLE (object text, problem text): for
 * check(), every placement of a replica whose rows differ from its catalog
 * table's (compared by an md5 of the replicated columns); nothing without
 * replicas
 */
PG_FUNCTION_INFO_V1(tenancy_replica_problems);
Datum
tenancy_replica_problems(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TenancyElevation save;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (!OidIsValid(get_extension_oid("citus", true)) ||
		!OidIsValid(tenancy_catalog_relid("replica_users")))
		return (Datum) 0;

	SPI_connect();
	tenancy_catalog_elevate(&save);
	for (i = 0; i < lengthof(replicas); i++)
	{
		const TenancyReplica *r = &replicas[i];
		const char *cols = r->hashed != NULL ? r->hashed : r->columns;
		char	   *digest = psprintf("SELECT pg_catalog.md5(coalesce(pg_catalog.string_agg(t::text,"
									  " ',' ORDER BY t::text), '')) FROM (SELECT %s FROM %%s) t",
									  cols);
		char	   *expected;
		char	   *replica = psprintf("tenancy.replica_%s", r->table);
		Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
		Datum		values[2];
		uint64		j;

		CHECK_FOR_INTERRUPTS();
		if (SPI_execute(psprintf(digest, psprintf("tenancy.%s", r->table)), true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "hashing tenancy.%s failed", r->table);
		expected = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		/* run_command_on_placements puts each placement's name in with format() */
		values[0] = ObjectIdGetDatum(tenancy_catalog_relid(replica + strlen("tenancy.")));
		values[1] = CStringGetTextDatum(psprintf(digest, "%s"));
		if (SPI_execute_with_args("SELECT nodename, nodeport, success, result"
								  "  FROM pg_catalog.run_command_on_placements($1, $2)"
								  " ORDER BY nodename, nodeport",
								  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "hashing the placements of %s failed", replica);
		for (j = 0; j < SPI_processed; j++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[j];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *success = SPI_getvalue(tuple, desc, 3);
			char	   *result = SPI_getvalue(tuple, desc, 4);
			Datum		row[2];
			bool		nulls[2] = {false, false};

			if (node_agrees(success, result, expected))
				continue;
			row[0] = CStringGetTextDatum(replica);
			row[1] = CStringGetTextDatum(psprintf("the copy on node %s:%s differs from tenancy.%s",
												  SPI_getvalue(tuple, desc, 1),
												  SPI_getvalue(tuple, desc, 2),
												  r->table));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
		}
	}
	tenancy_catalog_restore(&save);
	SPI_finish();
	return (Datum) 0;
}
