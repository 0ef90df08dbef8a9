/*-------------------------------------------------------------------------
 *
 * probe.c
 *	  One row of tenancy's catalog tables by its index, without SPI.
 *
 * The visibility cache (visibility.c) meets a new user on almost every
 * request of a pooled application server, and asks about one
 * administration at a time: is the user enabled, where does the
 * administration live, which permission, archive or delegation gives the
 * user a right on it.  Each answer is one or two index probes.  Through SPI
 * each costs a plan lookup, an executor start and a command counter
 * increment, several times the probe itself; here it is a systable scan,
 * the way PostgreSQL's own caches and ri_triggers.c's fast path read a row.
 *
 * These functions only read facts; turning them into rights is
 * visibility.c's business.  They read under the snapshot of the statement
 * whose rows the answer judges (the active snapshot; the transaction's
 * outside a statement), as the cache's SPI loads do (see visibility.c,
 * check_snapshot).  They take
 * AccessShareLock on what they read, like any query.  The relations and
 * indexes are found by name once per backend and again when schema tenancy
 * has another OID (the extension dropped and recreated) or after
 * tenancy_probe_forget() (a relcache reset).  That the indexes found still
 * exist is looked up in the syscache again only after a change of pg_class
 * (a syscache callback, which only clears a flag), not on every probe;
 * where one is
 * missing (a catalog older than 1.3, whose migration table has no index on
 * the administration), tenancy_probe_available() is false and the cache
 * keeps its SPI probe.
 *
 * On a Citus worker (scale-out, R25) the catalog tables are empty: the
 * coordinator's catalog is authoritative, and what these probes read of it
 * is copied, in the coordinator's transaction, into reference tables
 * tenancy.replica_<table> (distribute.c).  A worker reads the local
 * placement of each replica, relation replica_<table>_<shardid>, with the
 * same columns and indexes named replica_<index>_<shardid>, found through
 * Citus's pg_dist_shard; never the shell table, since a query on it from
 * inside a shard query is refused by Citus.  A node is a worker when
 * Citus's pg_dist_local_group says its group is not 0 (the coordinator's)
 * and the replicas exist; tenancy_probe_replica() tells the cache
 * (visibility.c), whose loads of whole lists then read the same
 * placements through SPI (tenancy_probe_replica_sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "tenancy.h"

/* where to look: relations, their indexes, the columns read */
typedef struct TenancyProbeCatalog
{
	bool		resolved;
	bool		available;
	bool		worker;			/* a Citus worker (group other than 0) */
	bool		replica;		/* a worker reading the replicas' placements */
	Oid			namespace;		/* schema tenancy when resolved */
	Oid			users;
	Oid			users_pkey;
	Oid			administration;
	Oid			administration_pkey;
	Oid			administration_by_compartment;	/* (compartment_id, id); not on
												 * a worker */
	Oid			administration_not_active;	/* (compartment_id) of the others
											 * than active; not on a worker */
	bool		not_active_defined;	/* verified as the catalog defines it
									 * (not_active_index_usable) */
	Oid			permission;
	Oid			permission_pkey;
	Oid			delegation;		/* InvalidOid before 1.1 */
	Oid			delegation_by_administration;
	Oid			reporting_login;	/* InvalidOid before 1.1 */
	Oid			reporting_login_pkey;
	Oid			migration;		/* InvalidOid before 1.2 */
	Oid			migration_by_administration;
	Oid			version;		/* a worker's replica_version placement */
	Oid			version_pkey;
	AttrNumber	users_id;
	AttrNumber	users_compartment;
	AttrNumber	users_disabled;
	AttrNumber	users_account;
	AttrNumber	login_role;
	AttrNumber	login_compartment;
	AttrNumber	adm_id;
	AttrNumber	adm_compartment;
	AttrNumber	adm_client;
	AttrNumber	adm_state;
	AttrNumber	perm_user;
	AttrNumber	perm_administration;
	AttrNumber	perm_compartment;	/* InvalidAttrNumber in a worker's replica */
	AttrNumber	perm_rights[4];	/* can_read, can_write, can_submit, can_manage */
	AttrNumber	del_administration;
	AttrNumber	del_to_user;
	AttrNumber	del_revoked;
	AttrNumber	del_until;
	AttrNumber	del_rights[4];
	AttrNumber	mig_administration;
	AttrNumber	mig_state;
	AttrNumber	mig_scenario;
	AttrNumber	mig_target;
	AttrNumber	mig_successor;
} TenancyProbeCatalog;

static TenancyProbeCatalog probe_catalog;

/*
 * The relations the probes read, the one list of them: resolve_catalog()
 * finds each by name, catalog_still_there() looks that each index still
 * carries its name (REINDEX CONCURRENTLY).  Some exist only on the
 * coordinator (or a node without Citus), some only among a worker's
 * replicas.
 */
typedef enum ProbeRelationWhere
{
	PROBE_EVERYWHERE,
	PROBE_ON_COORDINATOR,
	PROBE_ON_REPLICA
} ProbeRelationWhere;

typedef struct TenancyProbeRelation
{
	size_t		field;			/* offset of its Oid in TenancyProbeCatalog */
	const char *table;			/* the catalog table */
	const char *name;			/* the relation: the table or one of its indexes */
	bool		index;
	ProbeRelationWhere where;
} TenancyProbeRelation;

#define PROBE_TABLE(f, t, w) {offsetof(TenancyProbeCatalog, f), t, t, false, w}
#define PROBE_INDEX(f, t, n, w) {offsetof(TenancyProbeCatalog, f), t, n, true, w}

static const TenancyProbeRelation probe_relations[] = {
	PROBE_TABLE(users, "users", PROBE_EVERYWHERE),
	PROBE_INDEX(users_pkey, "users", "users_pkey", PROBE_EVERYWHERE),
	PROBE_TABLE(administration, "administration", PROBE_EVERYWHERE),
	PROBE_INDEX(administration_pkey, "administration", "administration_pkey", PROBE_EVERYWHERE),
	PROBE_INDEX(administration_by_compartment, "administration",
				"administration_compartment_id_id_key", PROBE_ON_COORDINATOR),
	PROBE_INDEX(administration_not_active, "administration",
				"administration_not_active_idx", PROBE_ON_COORDINATOR),
	PROBE_TABLE(permission, "permission", PROBE_EVERYWHERE),
	PROBE_INDEX(permission_pkey, "permission", "permission_pkey", PROBE_EVERYWHERE),
	PROBE_TABLE(reporting_login, "reporting_login", PROBE_EVERYWHERE),
	PROBE_INDEX(reporting_login_pkey, "reporting_login", "reporting_login_pkey", PROBE_EVERYWHERE),
	PROBE_TABLE(delegation, "delegation", PROBE_EVERYWHERE),
	PROBE_INDEX(delegation_by_administration, "delegation",
				"delegation_administration_idx", PROBE_EVERYWHERE),
	PROBE_TABLE(migration, "migration", PROBE_EVERYWHERE),
	PROBE_INDEX(migration_by_administration, "migration",
				"migration_administration_idx", PROBE_EVERYWHERE),
	PROBE_TABLE(version, "version", PROBE_ON_REPLICA),
	PROBE_INDEX(version_pkey, "version", "version_pkey", PROBE_ON_REPLICA),
};

/* where resolve_catalog() keeps the Oid of a relation of the list */
static inline Oid *
probe_relation_oid(TenancyProbeCatalog *c, const TenancyProbeRelation *r)
{
	return (Oid *) ((char *) c + r->field);
}

/* the indexes found were seen in the syscache since its last change of pg_class */
static bool catalog_verified = false;
static bool callback_registered = false;

/* one open scan: its snapshot, relation and index scan */
typedef struct TenancyProbeScan
{
	Snapshot	snapshot;
	Relation	rel;
	SysScanDesc scan;
} TenancyProbeScan;

/* rights_of_tuple deforms rows of up to this many columns at once */
#define RIGHTS_TUPLE_MAX_ATTS	16

/*
 * tenancy_probe_user_permissions steps over at most this many
 * administrations of the compartment to reach a user's next permission,
 * then descends the index to it instead
 */
#define MERGE_STEPS_MAX		16

static const char *const right_columns[4] = {"can_read", "can_write", "can_submit", "can_manage"};

static void resolve_catalog(void);
static bool catalog_still_there(void);
static void catalog_changed(Datum arg, int cacheid, uint32 hashvalue);
static Snapshot probe_snapshot(void);
static SysScanDesc begin_scan(Relation rel, Oid index, Snapshot snapshot,
							  AttrNumber col1, int64 key1,
							  AttrNumber col2, int64 key2);
static SysScanDesc begin_scan_from(Relation rel, Oid index, Snapshot snapshot,
								   AttrNumber col1, int64 key1,
								   AttrNumber col2, int64 from);
static TupleDesc open_scan_with(TenancyProbeScan *ps, Snapshot snapshot, Oid relid,
								Oid index, AttrNumber col1, int64 key1,
								AttrNumber col2, int64 key2);
static TupleDesc open_scan(TenancyProbeScan *ps, Oid relid, Oid index,
						   AttrNumber col1, int64 key1, AttrNumber col2, int64 key2);
static void close_scan(TenancyProbeScan *ps);
static int	rights_of_tuple(HeapTuple tuple, TupleDesc desc, const AttrNumber *columns);
static bool tuple_text_is(HeapTuple tuple, TupleDesc desc, AttrNumber col, const char *value);
static bool not_active_index_usable(Relation index);
static bool predicate_is_not_active(List *predicate);
static const char *state_of_tuple(HeapTuple tuple, TupleDesc desc);
static bool citus_worker(void);
static int64 replica_shard(Oid nsp, const char *table);
static bool read_administration(int64 administration_id, bool latest,
								int64 *compartment_id, int64 *client_id,
								const char **state);

/*
 * citus_worker: is this node a Citus worker?  Citus's pg_dist_local_group
 * holds one row, the node's group; 0 is the coordinator's.
 */
static bool
citus_worker(void)
{
	Oid			relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		worker = false;

	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		group = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		worker = !isnull && DatumGetInt32(group) != 0;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return worker;
}

/*
 * replica_shard: the shard id of reference table tenancy.replica_<table>
 * (its only shard), from Citus's pg_dist_shard; 0 when there is none
 */
static int64
replica_shard(Oid nsp, const char *table)
{
	char	   *name = psprintf("replica_%s", table);
	Oid			shell = get_relname_relid(name, nsp);
	Oid			relid = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	ScanKeyData key;
	int64		shardid = 0;

	pfree(name);
	if (!OidIsValid(shell) || !OidIsValid(relid))
		return 0;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(shell));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, 2, RelationGetDescr(rel), &isnull);

		if (!isnull)
			shardid = DatumGetInt64(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return shardid;
}

/*
 * relation: the catalog relation (table or index) called name, of catalog
 * table table, or InvalidOid.  On a worker reading replicas: the local
 * placement replica_<name>_<shardid> of the table's replica.
 */
static Oid
relation(Oid nsp, const char *table, const char *name)
{
	char	   *placement;
	int64		shardid;
	Oid			relid;

	if (!OidIsValid(nsp))
		return InvalidOid;
	if (!probe_catalog.replica)
		return get_relname_relid(name, nsp);
	shardid = replica_shard(nsp, table);
	if (shardid == 0)
		return InvalidOid;
	placement = psprintf("replica_%s_" INT64_FORMAT, name, shardid);
	relid = get_relname_relid(placement, nsp);
	pfree(placement);
	return relid;
}

static void
resolve_catalog(void)
{
	TenancyProbeCatalog *c = &probe_catalog;
	Oid			nsp = tenancy_catalog_namespace();
	int			i;

	memset(c, 0, sizeof(*c));
	c->resolved = true;
	c->namespace = nsp;
	c->worker = OidIsValid(nsp) && citus_worker();
	c->replica = c->worker && OidIsValid(get_relname_relid("replica_users", nsp));
	for (i = 0; i < lengthof(probe_relations); i++)
	{
		const TenancyProbeRelation *r = &probe_relations[i];

		if (r->where == (c->replica ? PROBE_ON_COORDINATOR : PROBE_ON_REPLICA))
			continue;
		*probe_relation_oid(c, r) = relation(nsp, r->table, r->name);
	}
	c->available =
		OidIsValid(c->users_pkey) && OidIsValid(c->administration_pkey) &&
		OidIsValid(c->permission_pkey) &&
		(!OidIsValid(c->reporting_login) || OidIsValid(c->reporting_login_pkey)) &&
		(!OidIsValid(c->delegation) || OidIsValid(c->delegation_by_administration)) &&
		(!OidIsValid(c->migration) || OidIsValid(c->migration_by_administration));
	if (!c->available)
		return;

	c->users_id = get_attnum(c->users, "id");
	c->users_compartment = get_attnum(c->users, "compartment_id");
	c->users_disabled = get_attnum(c->users, "disabled");
	c->users_account = get_attnum(c->users, "account_id");
	if (OidIsValid(c->reporting_login))
	{
		c->login_role = get_attnum(c->reporting_login, "role");
		c->login_compartment = get_attnum(c->reporting_login, "compartment_id");
	}
	c->adm_id = get_attnum(c->administration, "id");
	c->adm_compartment = get_attnum(c->administration, "compartment_id");
	c->adm_client = get_attnum(c->administration, "client_id");
	c->adm_state = get_attnum(c->administration, "state");
	c->perm_user = get_attnum(c->permission, "user_id");
	c->perm_administration = get_attnum(c->permission, "administration_id");
	c->perm_compartment = get_attnum(c->permission, "compartment_id");
	for (i = 0; i < 4; i++)
		c->perm_rights[i] = get_attnum(c->permission, right_columns[i]);
	if (OidIsValid(c->delegation))
	{
		c->del_administration = get_attnum(c->delegation, "administration_id");
		c->del_to_user = get_attnum(c->delegation, "to_user_id");
		c->del_revoked = get_attnum(c->delegation, "revoked_at");
		c->del_until = get_attnum(c->delegation, "valid_until");
		for (i = 0; i < 4; i++)
			c->del_rights[i] = get_attnum(c->delegation, right_columns[i]);
	}
	if (OidIsValid(c->migration))
	{
		c->mig_administration = get_attnum(c->migration, "administration_id");
		c->mig_state = get_attnum(c->migration, "state");
		c->mig_scenario = get_attnum(c->migration, "scenario");
		c->mig_target = get_attnum(c->migration, "target_compartment_id");
		c->mig_successor = get_attnum(c->migration, "successor_id");
	}
}

/*
 * do the indexes found still exist, under their names?  REINDEX
 * CONCURRENTLY moves a name to a new index and leaves the old one to be
 * dropped later, no longer kept up to date.  A worker's replica placements
 * are named by shard: there, whether they exist.
 */
static bool
catalog_still_there(void)
{
	TenancyProbeCatalog *c = &probe_catalog;
	int			i;

	for (i = 0; i < lengthof(probe_relations); i++)
	{
		const TenancyProbeRelation *r = &probe_relations[i];
		Oid			oid = *probe_relation_oid(c, r);

		if (!r->index || !OidIsValid(oid))
			continue;
		if (c->replica ?
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(oid)) :
			get_relname_relid(r->name, c->namespace) != oid)
			return false;
	}
	return true;
}

/* a change of pg_class: look that the indexes still exist at the next probe */
static void
catalog_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	catalog_verified = false;
}

/*
 * tenancy_probe_forget: find the catalog again at the next probe (the
 * extension was dropped or recreated)
 */
void
tenancy_probe_forget(void)
{
	probe_catalog.resolved = false;
	catalog_verified = false;
}

/* tenancy_probe_available: can the probes below answer on this catalog? */
bool
tenancy_probe_available(void)
{
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(RELOID, catalog_changed, (Datum) 0);
		callback_registered = true;
	}

	/*
	 * A dropped and recreated extension has a new schema and new relations;
	 * another session may have done it, so look that what was found is
	 * still there (syscache probes, no catalog scan) after each change of
	 * pg_class.
	 */
	if (!probe_catalog.resolved ||
		probe_catalog.namespace != tenancy_catalog_namespace() ||
		(probe_catalog.worker && !probe_catalog.replica))
	{
		/* verified first: a callback during the lookups makes us look again */
		catalog_verified = true;
		resolve_catalog();
	}
	else if (!catalog_verified)
	{
		catalog_verified = true;
		if (!catalog_still_there())
			resolve_catalog();
	}
	return probe_catalog.available;
}

/*
 * tenancy_probe_replica: is this node a Citus worker whose probes read the
 * coordinator's replicas?  Then the probes are the only reading of the
 * catalog that sees the coordinator's data (see the header).
 */
bool
tenancy_probe_replica(void)
{
	return tenancy_probe_available() && probe_catalog.replica;
}

/* probes read as committed by now (tenancy_probe_latest) */
static bool probe_latest = false;

/*
 * tenancy_probe_latest: from now on the probes read as committed by now
 * (on) or under the statement's snapshot (off); returns the previous mode.
 * For the guard's question about a write under a transaction snapshot
 * (rights.c, tenancy_rights_committed).
 */
bool
tenancy_probe_latest(bool on)
{
	bool		previous = probe_latest;

	probe_latest = on;
	return previous;
}

/*
 * the snapshot the probes read under, registered: the statement's (the
 * active one), whose rows the answer judges (see visibility.c,
 * check_snapshot); outside a statement, the transaction's; a latest one
 * when asked (tenancy_probe_latest)
 */
static Snapshot
probe_snapshot(void)
{
	if (probe_latest)
		return RegisterSnapshot(GetLatestSnapshot());
	return RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot()
							: GetTransactionSnapshot());
}

/* open a scan of relid by index under a registered snapshot */
static TupleDesc
open_scan_with(TenancyProbeScan *ps, Snapshot snapshot, Oid relid, Oid index,
			   AttrNumber col1, int64 key1, AttrNumber col2, int64 key2)
{
	ps->snapshot = snapshot;
	ps->rel = table_open(relid, AccessShareLock);
	ps->scan = begin_scan(ps->rel, index, ps->snapshot, col1, key1, col2, key2);
	return RelationGetDescr(ps->rel);
}

/* a scan by one or two bigint columns (heap attribute numbers) */
static SysScanDesc
begin_scan(Relation rel, Oid index, Snapshot snapshot,
		   AttrNumber col1, int64 key1, AttrNumber col2, int64 key2)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], col1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key1));
	if (col2 != InvalidAttrNumber)
		ScanKeyInit(&keys[1], col2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key2));
	return systable_beginscan(rel, index, true, snapshot,
							  col2 != InvalidAttrNumber ? 2 : 1, keys);
}

/* a scan by a bigint column's value and a second's lower bound */
static SysScanDesc
begin_scan_from(Relation rel, Oid index, Snapshot snapshot,
				AttrNumber col1, int64 key1, AttrNumber col2, int64 from)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], col1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key1));
	ScanKeyInit(&keys[1], col2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(from));
	return systable_beginscan(rel, index, true, snapshot, 2, keys);
}

/* open a scan of relid by index under the probes' snapshot (see the header) */
static TupleDesc
open_scan(TenancyProbeScan *ps, Oid relid, Oid index,
		  AttrNumber col1, int64 key1, AttrNumber col2, int64 key2)
{
	return open_scan_with(ps, probe_snapshot(), relid, index, col1, key1, col2, key2);
}

/*
 * close_scan: end the scan; the relation's lock is kept to the end of the
 * transaction, as the executor keeps the locks of what a query read (a
 * probe of the same table later in the transaction finds it held, and the
 * commit releases all at once)
 */
static void
close_scan(TenancyProbeScan *ps)
{
	systable_endscan(ps->scan);
	table_close(ps->rel, NoLock);
	UnregisterSnapshot(ps->snapshot);
}

/*
 * the rights bits of a row's four boolean right columns; the row is deformed
 * once (they follow a nullable column, where heap_getattr would walk the
 * row again for each)
 */
static int
rights_of_tuple(HeapTuple tuple, TupleDesc desc, const AttrNumber *columns)
{
	static const int bits[4] = {TENANCY_RIGHT_READ, TENANCY_RIGHT_WRITE,
	TENANCY_RIGHT_SUBMIT, TENANCY_RIGHT_MANAGE};
	Datum		values[RIGHTS_TUPLE_MAX_ATTS];
	bool		nulls[RIGHTS_TUPLE_MAX_ATTS];
	bool		deformed = desc->natts <= RIGHTS_TUPLE_MAX_ATTS;
	int			mask = 0;
	int			i;

	if (deformed)
		heap_deform_tuple(tuple, desc, values, nulls);
	for (i = 0; i < 4; i++)
	{
		bool		isnull;
		Datum		d = deformed ? values[columns[i] - 1] :
			heap_getattr(tuple, columns[i], desc, &isnull);

		if (deformed)
			isnull = nulls[columns[i] - 1];
		if (!isnull && DatumGetBool(d))
			mask |= bits[i];
	}
	return mask;
}

static bool
tuple_text_is(HeapTuple tuple, TupleDesc desc, AttrNumber col, const char *value)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, col, desc, &isnull);
	text	   *t;
	size_t		len = strlen(value);
	bool		result;

	if (isnull)
		return false;
	/* compared in place: no copy unless the value is toasted */
	t = DatumGetTextPP(d);
	result = VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), value, len) == 0;
	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	return result;
}

/* an administration row's state: "active", "archived" or "deleted" */
static const char *
state_of_tuple(HeapTuple tuple, TupleDesc desc)
{
	if (tuple_text_is(tuple, desc, probe_catalog.adm_state, "active"))
		return "active";
	if (tuple_text_is(tuple, desc, probe_catalog.adm_state, "archived"))
		return "archived";
	return "deleted";
}

/* the user's row: compartment, account, disabled; false when there is none */
static bool
read_user(int64 user_id, int64 *compartment_id, int64 *account_id, bool *disabled)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc = open_scan(&ps, c->users, c->users_pkey,
								 c->users_id, user_id, InvalidAttrNumber, 0);
	HeapTuple	tuple = systable_getnext(ps.scan);
	bool		found = HeapTupleIsValid(tuple);

	if (found)
	{
		bool		isnull;

		*compartment_id = DatumGetInt64(heap_getattr(tuple, c->users_compartment, desc, &isnull));
		*account_id = DatumGetInt64(heap_getattr(tuple, c->users_account, desc, &isnull));
		*disabled = DatumGetBool(heap_getattr(tuple, c->users_disabled, desc, &isnull));
	}
	close_scan(&ps);
	return found;
}

/*
 * tenancy_probe_user: is the user an enabled user of the compartment, and
 * (account_id not 0) of that account?
 */
bool
tenancy_probe_user(int64 user_id, int64 compartment_id, int64 account_id)
{
	int64		user_compartment;
	int64		user_account;
	bool		disabled;

	return read_user(user_id, &user_compartment, &user_account, &disabled) &&
		user_compartment == compartment_id && !disabled &&
		(account_id == 0 || user_account == account_id);
}

/*
 * login_key: the scan key of a login in reporting_login's primary key.  The
 * catalog holds the role (regrole, an OID); a Citus worker's replica holds
 * its name, since every node gives the same role another OID and Citus
 * connects to the workers by name (distribute.c).
 */
static void
login_key(ScanKeyData *key, Oid login)
{
	if (probe_catalog.replica)
	{
		char	   *name = DatumGetCString(DirectFunctionCall1(regroleout,
															   ObjectIdGetDatum(login)));

		ScanKeyInit(key, probe_catalog.login_role, BTEqualStrategyNumber, F_TEXTEQ,
					CStringGetTextDatum(name));
		/* the replica's column (and index) has the database's collation */
		key->sk_collation = DEFAULT_COLLATION_OID;
	}
	else
		ScanKeyInit(key, probe_catalog.login_role, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(login));
}

/*
 * tenancy_probe_identity: what act_as_local needs of a user: its
 * compartment, account and disabled flag (false when it does not exist),
 * and, unless bound is NULL, whether the login is bound as a reporting
 * login
 */
bool
tenancy_probe_identity(int64 user_id, Oid login, int64 *compartment_id,
					   int64 *account_id, bool *disabled, bool *bound)
{
	TenancyProbeCatalog *c = &probe_catalog;
	bool		found = read_user(user_id, compartment_id, account_id, disabled);

	if (bound == NULL)
		return found;
	*bound = false;
	if (OidIsValid(c->reporting_login))
	{
		ScanKeyData key;
		Snapshot	snapshot = probe_snapshot();
		Relation	rel = table_open(c->reporting_login, AccessShareLock);
		SysScanDesc scan;

		login_key(&key, login);
		scan = systable_beginscan(rel, c->reporting_login_pkey, true, snapshot, 1, &key);
		*bound = HeapTupleIsValid(systable_getnext(scan));
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		UnregisterSnapshot(snapshot);
	}
	return found;
}

/* does the relation hold a row visible to the probes' snapshot? */
static bool
any_row(Oid relid)
{
	Snapshot	snapshot;
	Relation	rel;
	SysScanDesc scan;
	bool		found;

	if (!OidIsValid(relid))
		return false;
	snapshot = probe_snapshot();
	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return found;
}

/* tenancy_probe_any_delegation: is there a delegation at all (1.1)? */
bool
tenancy_probe_any_delegation(void)
{
	return any_row(probe_catalog.delegation);
}

/* tenancy_probe_any_migration: is there a migration at all (1.2)? */
bool
tenancy_probe_any_migration(void)
{
	return any_row(probe_catalog.migration);
}

/*
 * read_administration: the administration's compartment, client and state,
 * under the probes' snapshot or, with latest, as committed by now
 */
static bool
read_administration(int64 administration_id, bool latest, int64 *compartment_id,
					int64 *client_id, const char **state)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	Snapshot	snapshot = latest ? RegisterSnapshot(GetLatestSnapshot()) : probe_snapshot();
	TupleDesc	desc = open_scan_with(&ps, snapshot, c->administration,
									  c->administration_pkey,
									  c->adm_id, administration_id, InvalidAttrNumber, 0);
	HeapTuple	tuple = systable_getnext(ps.scan);
	bool		found = HeapTupleIsValid(tuple);

	if (found)
	{
		bool		isnull;

		*compartment_id = DatumGetInt64(heap_getattr(tuple, c->adm_compartment, desc, &isnull));
		*client_id = DatumGetInt64(heap_getattr(tuple, c->adm_client, desc, &isnull));
		*state = state_of_tuple(tuple, desc);
	}
	close_scan(&ps);
	return found;
}

/*
 * tenancy_probe_administration: the administration's compartment, client
 * and state ("active", "archived", "deleted"); false when it does not exist
 */
bool
tenancy_probe_administration(int64 administration_id, int64 *compartment_id,
							 int64 *client_id, const char **state)
{
	return read_administration(administration_id, false, compartment_id, client_id, state);
}

/*
 * tenancy_probe_administration_now: the same as committed by now (a latest
 * snapshot), for the guard trigger on a worker (protect.c)
 */
bool
tenancy_probe_administration_now(int64 administration_id, int64 *client_id,
								 const char **state)
{
	int64		compartment_id;

	return read_administration(administration_id, true, &compartment_id, client_id, state);
}

/*
 * tenancy_probe_permission: the rights of the user's permission on the
 * administration (0 without one) and, where compartment_id is not NULL, the
 * compartment its row names (0 without one, or where the catalog does not
 * say: a worker's replica has no such column).  The catalog's foreign key
 * on permission (compartment_id, administration_id) makes that the
 * administration's compartment in any snapshot that sees the row.
 */
int
tenancy_probe_permission(int64 user_id, int64 administration_id,
						 int64 *compartment_id)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc = open_scan(&ps, c->permission, c->permission_pkey,
								 c->perm_user, user_id,
								 c->perm_administration, administration_id);
	HeapTuple	tuple = systable_getnext(ps.scan);
	int			mask = 0;

	if (compartment_id != NULL)
		*compartment_id = 0;
	if (HeapTupleIsValid(tuple))
	{
		mask = rights_of_tuple(tuple, desc, c->perm_rights);
		if (compartment_id != NULL && c->perm_compartment != InvalidAttrNumber)
		{
			bool		isnull;
			Datum		d = heap_getattr(tuple, c->perm_compartment, desc, &isnull);

			if (!isnull)
				*compartment_id = DatumGetInt64(d);
		}
	}
	close_scan(&ps);
	return mask;
}

/*
 * tenancy_probe_all_active: are all administrations of the compartment
 * active?  1 or 0; -1 where the catalog cannot tell by a probe (no partial
 * index administration_not_active_idx: a catalog older than 1.3, a worker;
 * or an index of that name that is not the catalog's, see
 * not_active_index_usable).
 * The index holds only the administrations that are archived or deleted,
 * so the answer costs a descent of a small index, whatever the size of the
 * compartment.  The state is read again from each row found: an index entry
 * leads to the row version that the snapshot sees.
 */
int
tenancy_probe_all_active(int64 compartment_id)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc;
	HeapTuple	tuple;
	bool		all_active = true;
	Relation	table;
	Relation	index;
	bool		usable;

	if (!tenancy_probe_available() || !OidIsValid(c->administration_not_active))
		return -1;
	/* the table locked before its index, as PostgreSQL locks them */
	table = table_open(c->administration, AccessShareLock);
	index = index_open(c->administration_not_active, AccessShareLock);
	usable = not_active_index_usable(index);
	index_close(index, NoLock);
	table_close(table, NoLock);
	if (!usable)
		return -1;
	desc = open_scan(&ps, c->administration, c->administration_not_active,
					 c->adm_compartment, compartment_id, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tuple = systable_getnext(ps.scan)))
	{
		CHECK_FOR_INTERRUPTS();
		if (!tuple_text_is(tuple, desc, c->adm_state, "active"))
		{
			all_active = false;
			break;
		}
	}
	close_scan(&ps);
	return all_active ? 1 : 0;
}

/*
 * not_active_index_usable: may a scan of administration_not_active_idx that
 * finds nothing be taken for "every administration of the compartment is
 * active"?  Unlike the other probes, where a missing index entry only
 * withholds a right, a missing entry here would give one (an archived
 * administration taken for active is writable, R12).  So only the index the
 * catalog defines is used: a btree on administration (compartment_id)
 * alone, in the integer operator family, with predicate state <> 'active',
 * valid, ready and live, and usable by the snapshot (indcheckxmin, as the
 * planner's get_relation_info).  An index of that name left by a
 * failed CREATE INDEX CONCURRENTLY (not ready, or not valid: rows missing)
 * or defined otherwise by hand gives -1, and the cache reads the
 * administration's row.  The definition cannot change under one OID, so it
 * is verified once after the catalog is resolved (a new index of that name
 * is a change of pg_class, which resolves it again); the flags, which can
 * change, at each probe.
 */
static bool
not_active_index_usable(Relation index)
{
	Form_pg_index form = index->rd_index;

	if (!form->indisvalid || !form->indisready || !form->indislive)
		return false;
	/* built over a broken HOT chain: not for snapshots older than it */
	if (form->indcheckxmin &&
		!TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
							   TransactionXmin))
		return false;
	if (!probe_catalog.not_active_defined)
		probe_catalog.not_active_defined =
			form->indrelid == probe_catalog.administration &&
			index->rd_rel->relam == BTREE_AM_OID &&
			form->indnatts == 1 &&
			form->indkey.values[0] == probe_catalog.adm_compartment &&
			index->rd_opfamily[0] == INTEGER_BTREE_FAM_OID &&
			predicate_is_not_active(RelationGetIndexPredicate(index));
	return probe_catalog.not_active_defined;
}

/* is an index predicate exactly "state <> 'active'"? */
static bool
predicate_is_not_active(List *predicate)
{
	OpExpr	   *op;
	Var		   *column;
	Const	   *value;

	if (list_length(predicate) != 1 || !IsA(linitial(predicate), OpExpr))
		return false;
	op = linitial_node(OpExpr, predicate);
	if (op->opfuncid != F_TEXTNE || list_length(op->args) != 2 ||
		!IsA(linitial(op->args), Var) || !IsA(lsecond(op->args), Const) ||
		(op->inputcollid != DEFAULT_COLLATION_OID && op->inputcollid != C_COLLATION_OID))
		return false;
	column = linitial_node(Var, op->args);
	value = lsecond_node(Const, op->args);
	return column->varattno == probe_catalog.adm_state &&
		value->consttype == TEXTOID && !value->constisnull &&
		strcmp(TextDatumGetCString(value->constvalue), "active") == 0;
}

/*
 * tenancy_probe_user_permissions: the user's permissions on the
 * administrations of its compartment, each with the administration's facts,
 * in ascending administration order; NULL where the catalog lacks the index
 * on administration (compartment_id, id) (a Citus worker), and the caller
 * reads them with SQL.
 *
 * A merge of two index scans in the same order: administration by
 * compartment and permission by user, both ascending by administration id.
 * A complete load of a user of 20,000 administrations cost 9,500
 * instructions per right through SQL (a join and a sort); this reads each
 * row once.  Where the user's next permission lies more than
 * MERGE_STEPS_MAX administrations ahead, the administration scan starts
 * again at it (one index descent): a user of three administrations at the
 * end of a compartment of 20,000 reads those three, not 20,000 (a complete
 * load 0.15 ms, 1.7 ms by the plain merge).
 * The rows are allocated in the caller's memory context.
 */
TenancyRightsRow *
tenancy_probe_user_permissions(int64 user_id, int64 compartment_id, int *nrows)
{
	TenancyProbeCatalog *c = &probe_catalog;
	Snapshot	snapshot;
	TenancyProbeScan adm;
	TenancyProbeScan perm;
	TupleDesc	adm_desc;
	TupleDesc	perm_desc;
	HeapTuple	adm_tuple;
	HeapTuple	perm_tuple;
	TenancyRightsRow *rows;
	int			capacity = 64;
	int			n = 0;
	int			steps = 0;

	*nrows = 0;
	if (!tenancy_probe_available() || !OidIsValid(c->administration_by_compartment))
		return NULL;

	/* one snapshot for both scans, so that they read the same catalog */
	snapshot = probe_snapshot();
	adm_desc = open_scan_with(&adm, snapshot, c->administration,
							  c->administration_by_compartment,
							  c->adm_compartment, compartment_id, InvalidAttrNumber, 0);
	perm_desc = open_scan_with(&perm, RegisterSnapshot(snapshot),
							   c->permission, c->permission_pkey,
							   c->perm_user, user_id, InvalidAttrNumber, 0);
	rows = palloc(sizeof(TenancyRightsRow) * capacity);

	adm_tuple = systable_getnext(adm.scan);
	perm_tuple = systable_getnext(perm.scan);
	while (HeapTupleIsValid(adm_tuple) && HeapTupleIsValid(perm_tuple))
	{
		bool		isnull;
		int64		adm_id = DatumGetInt64(heap_getattr(adm_tuple, c->adm_id,
														adm_desc, &isnull));
		int64		perm_adm = DatumGetInt64(heap_getattr(perm_tuple, c->perm_administration,
														  perm_desc, &isnull));

		CHECK_FOR_INTERRUPTS();
		if (adm_id < perm_adm)
		{
			if (++steps > MERGE_STEPS_MAX)
			{
				/* a gap: descend to the permission's administration */
				systable_endscan(adm.scan);
				adm.scan = begin_scan_from(adm.rel, c->administration_by_compartment,
										   adm.snapshot, c->adm_compartment,
										   compartment_id, c->adm_id, perm_adm);
				steps = 0;
			}
			adm_tuple = systable_getnext(adm.scan);
			continue;
		}
		steps = 0;
		if (perm_adm < adm_id)
		{
			/* a permission outside the compartment: none by the foreign key */
			perm_tuple = systable_getnext(perm.scan);
			continue;
		}
		if (n == capacity)
		{
			capacity *= 2;
			rows = repalloc(rows, sizeof(TenancyRightsRow) * capacity);
		}
		memset(&rows[n], 0, sizeof(TenancyRightsRow));
		rows[n].administration_id = adm_id;
		rows[n].compartment_id = compartment_id;
		rows[n].client_id = DatumGetInt64(heap_getattr(adm_tuple, c->adm_client,
													   adm_desc, &isnull));
		rows[n].state = tenancy_rights_state_code(state_of_tuple(adm_tuple, adm_desc));
		rows[n].source = TENANCY_RIGHTS_FROM_PERMISSION;
		rows[n].rights = rights_of_tuple(perm_tuple, perm_desc, c->perm_rights);
		n++;
		adm_tuple = systable_getnext(adm.scan);
		perm_tuple = systable_getnext(perm.scan);
	}
	close_scan(&perm);
	close_scan(&adm);
	*nrows = n;
	return rows;
}

/*
 * tenancy_probe_archive_read: did an archive_and_transfer bring the
 * administration into the compartment, with a successor on which the user
 * holds a permission (R18)?
 */
bool
tenancy_probe_archive_read(int64 user_id, int64 administration_id,
						   int64 compartment_id)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc;
	HeapTuple	tuple;
	int64		successor = 0;

	if (!OidIsValid(c->migration))
		return false;
	desc = open_scan(&ps, c->migration, c->migration_by_administration,
					 c->mig_administration, administration_id, InvalidAttrNumber, 0);
	while (successor == 0 && HeapTupleIsValid(tuple = systable_getnext(ps.scan)))
	{
		bool		isnull;
		Datum		target = heap_getattr(tuple, c->mig_target, desc, &isnull);
		Datum		succ;

		CHECK_FOR_INTERRUPTS();
		if (isnull || DatumGetInt64(target) != compartment_id ||
			!tuple_text_is(tuple, desc, c->mig_state, "completed") ||
			!tuple_text_is(tuple, desc, c->mig_scenario, "archive_and_transfer"))
			continue;
		succ = heap_getattr(tuple, c->mig_successor, desc, &isnull);
		if (!isnull)
			successor = DatumGetInt64(succ);
	}
	close_scan(&ps);
	return successor != 0 && tenancy_probe_permission(user_id, successor, NULL) != 0;
}

/*
 * tenancy_probe_delegation: the rights live delegations (not revoked, not
 * ended at now) give the user on the administration (R20), and in *until
 * the first end among them
 */
int
tenancy_probe_delegation(int64 user_id, int64 administration_id,
						 TimestampTz now, TimestampTz *until)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc;
	HeapTuple	tuple;
	int			mask = 0;

	*until = 0;
	if (!OidIsValid(c->delegation))
		return 0;
	desc = open_scan(&ps, c->delegation, c->delegation_by_administration,
					 c->del_administration, administration_id, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tuple = systable_getnext(ps.scan)))
	{
		bool		isnull;
		Datum		to_user = heap_getattr(tuple, c->del_to_user, desc, &isnull);
		TimestampTz end;

		CHECK_FOR_INTERRUPTS();
		if (isnull || DatumGetInt64(to_user) != user_id)
			continue;
		(void) heap_getattr(tuple, c->del_revoked, desc, &isnull);
		if (!isnull)
			continue;			/* revoked */
		end = DatumGetTimestampTz(heap_getattr(tuple, c->del_until, desc, &isnull));
		if (isnull || end <= now)
			continue;			/* ended */
		mask |= rights_of_tuple(tuple, desc, c->del_rights);
		if (*until == 0 || end < *until)
			*until = end;
	}
	close_scan(&ps);
	return mask;
}

/*
 * tenancy_probe_replica_sql: on a Citus worker reading replicas, the query
 * sql with each catalog table that has a replica ("tenancy.permission")
 * replaced by the replica's local placement, for the cache's loads of
 * whole lists (visibility.c); NULL elsewhere.  Only identifiers written in
 * tenancy's own query texts are replaced, never user input.
 */
char *
tenancy_probe_replica_sql(const char *sql)
{
	TenancyProbeCatalog *c = &probe_catalog;
	const char *const names[] = {"users", "administration", "permission",
	"reporting_login", "delegation", "migration"};
	Oid			relids[6];
	StringInfoData buf;
	const char *p = sql;

	if (!tenancy_probe_replica())
		return NULL;
	relids[0] = c->users;
	relids[1] = c->administration;
	relids[2] = c->permission;
	relids[3] = c->reporting_login;
	relids[4] = c->delegation;
	relids[5] = c->migration;
	initStringInfo(&buf);
	while (*p != '\0')
	{
		const char *name = p + strlen("tenancy.");
		size_t		len = 0;
		int			i = lengthof(names);

		if (strncmp(p, "tenancy.", strlen("tenancy.")) == 0)
		{
			while (name[len] == '_' || (name[len] >= 'a' && name[len] <= 'z'))
				len++;
			for (i = 0; i < lengthof(names); i++)
				if (strlen(names[i]) == len && strncmp(name, names[i], len) == 0 &&
					OidIsValid(relids[i]))
					break;
		}
		if (i < lengthof(names))
		{
			appendStringInfoString(&buf,
								   quote_qualified_identifier(get_namespace_name(c->namespace),
															  get_rel_name(relids[i])));
			p = name + len;
		}
		else
			appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/*
 * tenancy_probe_binding: the compartment a reporting login is bound to, or
 * 0 (visibility.c asks it on a Citus worker, where only the replica knows)
 */
int64
tenancy_probe_binding(Oid login)
{
	TenancyProbeCatalog *c = &probe_catalog;
	ScanKeyData key;
	Snapshot	snapshot;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		compartment_id = 0;

	if (!OidIsValid(c->reporting_login))
		return 0;
	snapshot = probe_snapshot();
	rel = table_open(c->reporting_login, AccessShareLock);
	login_key(&key, login);
	scan = systable_beginscan(rel, c->reporting_login_pkey, true, snapshot, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, c->login_compartment, RelationGetDescr(rel), &isnull);

		if (!isnull)
			compartment_id = DatumGetInt64(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return compartment_id;
}

/*
 * tenancy_probe_replica_version: on a Citus worker reading replicas, the
 * version the coordinator bumps with every change of them (distribute.c);
 * 0 elsewhere
 */
int64
tenancy_probe_replica_version(void)
{
	TenancyProbeCatalog *c = &probe_catalog;
	TenancyProbeScan ps;
	TupleDesc	desc;
	HeapTuple	tuple;
	int64		version = 0;

	if (!tenancy_probe_replica() || !OidIsValid(c->version_pkey))
		return 0;
	ps.snapshot = probe_snapshot();
	ps.rel = table_open(c->version, AccessShareLock);
	ps.scan = systable_beginscan(ps.rel, c->version_pkey, true, ps.snapshot, 0, NULL);
	desc = RelationGetDescr(ps.rel);
	if (HeapTupleIsValid(tuple = systable_getnext(ps.scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, 2, desc, &isnull);

		if (!isnull)
			version = DatumGetInt64(d);
	}
	close_scan(&ps);
	return version;
}
