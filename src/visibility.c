/*-------------------------------------------------------------------------
 *
 * visibility.c
 *	  What the current identity may see and do: the per-backend scope cache
 *	  behind the row-security policies, and the functions that read it.
 *
 * The cache is one hash table, administration id -> (client, rights), in
 * its own memory context (TenancyScopeCache).  It holds every
 * administration inside the identity's compartment wall (R6), each marked
 * TENANCY_IN_SCOPE, with the rights the acting user holds on it (R7) less
 * what the administration's state forbids (archived: read-only, R12;
 * deleted: nothing).  It is filled by two SPI queries:
 *
 *	- the scope: the compartment's administrations, reloaded when the
 *	  identity moves to another compartment;
 *	- the rights: the acting user's permissions, reloaded when the identity
 *	  moves to another user.
 *
 * so a policy check is a hash probe, never a query per row.  Memory is
 * bounded by the size of one compartment; a reload resets the context.
 *
 * Invariant: a right bit is only ever set on an entry that also carries
 * TENANCY_IN_SCOPE (every load below sets it first).  planner.c relies on
 * it to drop the wall where a read or write check already implies it.
 *
 * Invalidation.  A statement trigger on the administration, users and
 * permission tables (triggers.c) registers a relcache invalidation of
 * tenancy.permission.  PostgreSQL sends it to every backend when the
 * writing transaction commits (and replays it locally at command end and
 * at abort); our relcache callback only clears the valid flags.  A cache
 * built under a transaction snapshot (REPEATABLE READ, SERIALIZABLE) may
 * miss commits that its snapshot cannot see, so it is dropped at the end
 * of that transaction.
 *
 * Parallel workers receive the identity with the leader's settings and
 * build their own cache under the leader's snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "nodes/pathnodes.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "tenancy.h"

typedef struct TenancyScopeEntry
{
	int64		administration_id;	/* hash key */
	int64		client_id;
	uint8		allowed;		/* rights the administration's state allows */
	uint8		rights;			/* TENANCY_IN_SCOPE | effective rights */
	char		state;			/* 'a'ctive, a'r'chived, 'd'eleted */
	bool		delegated;		/* of another compartment, by delegation */
} TenancyScopeEntry;

static MemoryContext cache_context = NULL;
static HTAB *scope_hash = NULL;
static bool scope_valid = false;
static bool rights_valid = false;
static bool cache_xact_only = false;
static bool rights_none = false;	/* acting user disabled or gone */
static int64 scope_compartment = 0;
static int64 rights_user = 0;	/* user id, or -(role oid) of a reporting login */
static TimestampTz rights_expire_at = 0;	/* first delegation end, or 0 */

/* the reporting binding of the session user, if any (R14, R15) */
static bool binding_valid = false;
static Oid	binding_role = InvalidOid;
static int64 binding_compartment = 0;	/* 0: the session user is not bound */
static Oid	watched_relid = InvalidOid;

/* lazily built id arrays per right, in cache_context */
static ArrayType *right_arrays[4];

/*
 * A direct-mapped front of the hash table for the policies' hot path:
 * administration ids are small consecutive integers, so slot id % N almost
 * always holds the id itself.  A slot is valid when its generation is the
 * current one; a reload just bumps the generation.
 */
#define FAST_SLOTS 4096
typedef struct TenancyFastSlot
{
	int64		administration_id;
	uint32		generation;
	int			rights;
} TenancyFastSlot;
static TenancyFastSlot fast_slots[FAST_SLOTS];
static uint32 fast_generation = 1;

/* number of administrations with each right bit (and IN_SCOPE), or -1 */
static int	right_counts[8];

static void scope_relcache_callback(Datum arg, Oid relid);
static void scope_xact_callback(XactEvent event, void *arg);
static void load_scope(int64 compartment_id);
static void load_rights(int64 user_id);
static void load_delegations(int64 user_id);
static void reset_scope_rights(int mask);
static void forget_fast_slots(void);
static int	count_with_right(int bit);
static void set_entry_state(TenancyScopeEntry *entry, const char *state);
static void load_binding(Oid role);
static void load_reporting_rights(Oid role);
static bool ensure_cache(void);
static int	right_index(int bit);
static ArrayType *build_right_array(int bit);
static int	parse_right_arg(FunctionCallInfo fcinfo, int argno);
static int	compare_int64(const void *a, const void *b);
static bool column_pinned(RelOptInfo *rel, Node *column, Oid opfamily);

/*
 * tenancy_visibility_init: register the callbacks (called from _PG_init)
 */
void
tenancy_visibility_init(void)
{
	CacheRegisterRelcacheCallback(scope_relcache_callback, (Datum) 0);
	RegisterXactCallback(scope_xact_callback, NULL);
}

/* invalidation callbacks only set flags */
static void
scope_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == watched_relid)
	{
		scope_valid = false;
		rights_valid = false;
		binding_valid = false;
	}
}

static void
scope_xact_callback(XactEvent event, void *arg)
{
	if (cache_xact_only &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT))
	{
		scope_valid = false;
		rights_valid = false;
		binding_valid = false;
		cache_xact_only = false;
	}
}

/* invalidate the fast slots and the derived counts */
static void
forget_fast_slots(void)
{
	int			i;

	if (++fast_generation == 0)
	{
		memset(fast_slots, 0, sizeof(fast_slots));
		fast_generation = 1;
	}
	for (i = 0; i < lengthof(right_counts); i++)
		right_counts[i] = -1;
}

/* how many administrations of the cache carry the bit (cached until reload) */
static int
count_with_right(int bit)
{
	int			idx = 0;
	HASH_SEQ_STATUS seq;
	TenancyScopeEntry *entry;

	while ((1 << idx) != bit)
		idx++;
	if (right_counts[idx] < 0)
	{
		int			n = 0;

		hash_seq_init(&seq, scope_hash);
		while ((entry = hash_seq_search(&seq)) != NULL)
			if (entry->rights & bit)
				n++;
		right_counts[idx] = n;
	}
	return right_counts[idx];
}

static void
reset_derived(void)
{
	int			i;

	for (i = 0; i < lengthof(right_arrays); i++)
	{
		if (right_arrays[i] != NULL)
			pfree(right_arrays[i]);
		right_arrays[i] = NULL;
	}
	forget_fast_slots();
}

/*
 * load_scope: the administrations of one compartment, no rights yet
 */
static void
load_scope(int64 compartment_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	HASHCTL		ctl;
	TenancyElevation save;
	int			n;
	int			i;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(TopMemoryContext,
											  "TenancyScopeCache",
											  ALLOCSET_DEFAULT_SIZES);
	scope_valid = false;
	rights_valid = false;
	MemoryContextReset(cache_context);
	scope_hash = NULL;
	memset(right_arrays, 0, sizeof(right_arrays));
	forget_fast_slots();

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(TenancyScopeEntry);
	ctl.hcxt = cache_context;

	watched_relid = tenancy_catalog_relid("permission");
	values[0] = Int64GetDatum(compartment_id);

	SPI_connect();
	tenancy_catalog_elevate(&save);
	n = tenancy_catalog_exec(&plan,
							 "SELECT a.id, a.client_id, a.state"
							 "  FROM tenancy.administration a"
							 " WHERE a.compartment_id = $1",
							 1, argtypes, values, NULL, true);
	scope_hash = hash_create("tenancy scope", Max(n, 16), &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		int64		id;
		int64		client_id = 0;
		char	   *state;
		TenancyScopeEntry *entry;

		tenancy_catalog_get_int64(i, 0, &id);
		tenancy_catalog_get_int64(i, 1, &client_id);
		state = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		entry = hash_search(scope_hash, &id, HASH_ENTER, NULL);
		entry->client_id = client_id;
		entry->rights = TENANCY_IN_SCOPE;
		entry->delegated = false;
		set_entry_state(entry, state);
	}
	tenancy_catalog_restore(&save);
	SPI_finish();

	scope_compartment = compartment_id;
	cache_xact_only = IsolationUsesXactSnapshot();
	scope_valid = true;
}

/*
 * load_rights: the acting user's permissions, on top of the scope
 */
static void
load_rights(int64 user_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	TenancyScopeEntry *entry;
	TenancyElevation save;
	int			n;
	int			i;

	rights_valid = false;
	reset_scope_rights(TENANCY_IN_SCOPE);

	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(scope_compartment);

	/*
	 * One query: the user's row decides whether any right counts (a
	 * disabled user has none), the permissions give the rights.
	 */
	SPI_connect();
	tenancy_catalog_elevate(&save);
	n = tenancy_catalog_exec(&plan,
							 "SELECT p.administration_id,"
							 "       p.can_read, p.can_write, p.can_submit, p.can_manage"
							 "  FROM tenancy.users u"
							 "  LEFT JOIN tenancy.permission p ON p.user_id = u.id"
							 " WHERE u.id = $1 AND u.compartment_id = $2"
							 "   AND NOT u.disabled",
							 2, argtypes, values, NULL, true);
	rights_none = (n == 0);
	for (i = 0; i < n; i++)
	{
		int64		id;
		int			mask;

		if (!tenancy_catalog_get_int64(i, 0, &id))
			continue;			/* an enabled user without permissions */
		mask = tenancy_catalog_get_rights(i, 1);
		entry = hash_search(scope_hash, &id, HASH_FIND, NULL);
		if (entry != NULL)
			entry->rights |= (mask & entry->allowed);
	}

	/*
	 * Migration (1.2, R18; see migration.c): a user holding any right on the
	 * successor of an administration that an archive_and_transfer brought
	 * into this compartment reads the archive.  Skipped while the database
	 * is at a version without tenancy.migration.  A migration's change of
	 * state invalidates this cache like a permission does.
	 */
	if (!rights_none && OidIsValid(tenancy_catalog_relid("migration")))
	{
		static SPIPlanPtr archive_plan = NULL;

		n = tenancy_catalog_exec(&archive_plan,
								 "SELECT m.administration_id FROM tenancy.migration m"
								 "  JOIN tenancy.permission p ON p.administration_id = m.successor_id"
								 " WHERE p.user_id = $1 AND m.target_compartment_id = $2"
								 "   AND m.state = 'completed'"
								 "   AND m.scenario = 'archive_and_transfer'",
								 2, argtypes, values, NULL, true);
		for (i = 0; i < n; i++)
		{
			int64		id;

			if (!tenancy_catalog_get_int64(i, 0, &id))
				continue;
			entry = hash_search(scope_hash, &id, HASH_FIND, NULL);
			if (entry != NULL)
				entry->rights |= (TENANCY_RIGHT_READ & entry->allowed);
		}
	}
	tenancy_catalog_restore(&save);
	SPI_finish();

	if (!rights_none)
		load_delegations(user_id);
	if (IsolationUsesXactSnapshot())
		cache_xact_only = true;
	rights_user = user_id;
	rights_valid = true;
}

/*
 * reset_scope_rights: every administration of the compartment back to the
 * given mask, and the delegated ones of the previous identity gone
 */
static void
reset_scope_rights(int mask)
{
	HASH_SEQ_STATUS seq;
	TenancyScopeEntry *entry;

	reset_derived();
	rights_expire_at = 0;
	hash_seq_init(&seq, scope_hash);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (entry->delegated)
			hash_search(scope_hash, &entry->administration_id, HASH_REMOVE, NULL);
		else
			entry->rights = mask;
	}
}

/* state text as entry fields */
static void
set_entry_state(TenancyScopeEntry *entry, const char *state)
{
	if (strcmp(state, "active") == 0)
	{
		entry->allowed = TENANCY_RIGHTS_ALL;
		entry->state = 'a';
	}
	else if (strcmp(state, "archived") == 0)
	{
		entry->allowed = TENANCY_RIGHT_READ | TENANCY_RIGHT_MANAGE;
		entry->state = 'r';
	}
	else
	{
		entry->allowed = 0;
		entry->state = 'd';
	}
}

/*
 * load_delegations: administrations of other compartments delegated to the
 * user (R20), until their end date; the cache expires with the first one
 * to end, so a delegation stops without any job running.
 */
static void
load_delegations(int64 user_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	TenancyElevation save;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	int			n;
	int			i;

	if (!OidIsValid(tenancy_catalog_relid("delegation")))
		return;					/* catalog older than 1.1 */

	values[0] = Int64GetDatum(user_id);
	values[1] = TimestampTzGetDatum(now);
	SPI_connect();
	tenancy_catalog_elevate(&save);
	n = tenancy_catalog_exec(&plan,
							 "SELECT d.administration_id, a.client_id, a.state,"
							 "       d.can_read, d.can_write, d.can_submit, d.can_manage,"
							 "       d.valid_until"
							 "  FROM tenancy.delegation d"
							 "  JOIN tenancy.administration a ON a.id = d.administration_id"
							 " WHERE d.to_user_id = $1 AND d.revoked_at IS NULL"
							 "   AND d.valid_until > $2",
							 2, argtypes, values, NULL, true);
	for (i = 0; i < n; i++)
	{
		int64		id;
		int64		client_id = 0;
		int			mask;
		bool		found;
		bool		isnull;
		TimestampTz until;
		TenancyScopeEntry *entry;

		tenancy_catalog_get_int64(i, 0, &id);
		tenancy_catalog_get_int64(i, 1, &client_id);
		mask = tenancy_catalog_get_rights(i, 3);
		until = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 8, &isnull));
		if (rights_expire_at == 0 || until < rights_expire_at)
			rights_expire_at = until;

		entry = hash_search(scope_hash, &id, HASH_ENTER, &found);
		if (!found)
		{
			entry->client_id = client_id;
			entry->rights = TENANCY_IN_SCOPE;
			entry->delegated = true;
			set_entry_state(entry, SPI_getvalue(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 3));
		}
		entry->rights |= (mask & entry->allowed);
	}
	tenancy_catalog_restore(&save);
	SPI_finish();
}

/*
 * load_binding: the compartment a reporting login is bound to, or 0
 */
static void
load_binding(Oid role)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	TenancyElevation save;

	binding_valid = false;
	binding_compartment = 0;
	if (OidIsValid(tenancy_catalog_relid("reporting_login")))
	{
		values[0] = ObjectIdGetDatum(role);
		SPI_connect();
		tenancy_catalog_elevate(&save);
		if (tenancy_catalog_exec(&plan,
								 "SELECT r.compartment_id FROM tenancy.reporting_login r"
								 " WHERE r.role::oid = $1",
								 1, argtypes, values, NULL, true) == 1)
			tenancy_catalog_get_int64(0, 0, &binding_compartment);
		tenancy_catalog_restore(&save);
		SPI_finish();
	}
	binding_role = role;
	binding_valid = true;
}

/*
 * load_reporting_rights: read, and nothing else, on the administrations of
 * the binding's scope (its compartment, client and codes) (R14, R15)
 */
static void
load_reporting_rights(Oid role)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	TenancyElevation save;
	int			n;
	int			i;

	rights_valid = false;
	reset_scope_rights(0);

	values[0] = ObjectIdGetDatum(role);
	SPI_connect();
	tenancy_catalog_elevate(&save);
	n = tenancy_catalog_exec(&plan,
							 "SELECT a.id FROM tenancy.reporting_login r"
							 "  JOIN tenancy.administration a"
							 "    ON a.compartment_id = r.compartment_id"
							 "   AND (r.client_id IS NULL OR a.client_id = r.client_id)"
							 "   AND (r.administration_codes IS NULL"
							 "        OR a.code = ANY (r.administration_codes))"
							 " WHERE r.role::oid = $1",
							 1, argtypes, values, NULL, true);
	for (i = 0; i < n; i++)
	{
		int64		id;
		TenancyScopeEntry *entry;

		tenancy_catalog_get_int64(i, 0, &id);
		entry = hash_search(scope_hash, &id, HASH_FIND, NULL);
		if (entry != NULL)
			entry->rights = TENANCY_IN_SCOPE | (TENANCY_RIGHT_READ & entry->allowed);
	}
	tenancy_catalog_restore(&save);
	SPI_finish();

	rights_none = false;
	if (IsolationUsesXactSnapshot())
		cache_xact_only = true;
	rights_user = -(int64) role;
	rights_valid = true;
}

/*
 * ensure_cache: make the cache answer for the current identity.  Returns
 * false when there is no identity or the user may see nothing (R2).
 */
static bool
ensure_cache(void)
{
	const TenancyIdentity *ident = tenancy_identity_current();

	if (ident->user_id == 0)
	{
		/* no act-as identity: the session user's reporting binding, if any */
		Oid			role = GetSessionUserId();

		if (!binding_valid || binding_role != role)
			load_binding(role);
		if (binding_compartment == 0)
			return false;
		if (!scope_valid || scope_compartment != binding_compartment)
			load_scope(binding_compartment);
		if (!rights_valid || rights_user != -(int64) role)
			load_reporting_rights(role);
		return true;
	}
	if (rights_valid && rights_expire_at != 0 &&
		GetCurrentStatementStartTimestamp() >= rights_expire_at)
		rights_valid = false;	/* a delegation has ended */
	if (!scope_valid || scope_compartment != ident->compartment_id)
		load_scope(ident->compartment_id);
	if (!rights_valid || rights_user != ident->user_id)
		load_rights(ident->user_id);
	return !rights_none;
}

/*
 * tenancy_visibility_reporting: does the session read as a reporting login
 * (no act-as identity, and its login bound to a scope)?
 */
bool
tenancy_visibility_reporting(void)
{
	return !tenancy_identity_is_set() && ensure_cache();
}

/*
 * tenancy_visibility_rights: rights mask of the current identity on one
 * administration (0 outside its wall).  The policies' hot path.
 */
int
tenancy_visibility_rights(int64 administration_id)
{
	TenancyScopeEntry *entry;

	TenancyFastSlot *slot;

	if (!ensure_cache())
		return 0;
	slot = &fast_slots[(uint64) administration_id % FAST_SLOTS];
	if (slot->generation == fast_generation &&
		slot->administration_id == administration_id)
		return slot->rights;
	entry = hash_search(scope_hash, &administration_id, HASH_FIND, NULL);
	slot->administration_id = administration_id;
	slot->generation = fast_generation;
	slot->rights = entry ? entry->rights : 0;
	return slot->rights;
}

/*
 * tenancy_visibility_lookup: rights, client and state of one administration
 * inside the identity's wall; false (and zeroes) outside it.
 */
bool
tenancy_visibility_lookup(int64 administration_id, TenancyScopeInfo *info)
{
	TenancyScopeEntry *entry = NULL;

	memset(info, 0, sizeof(TenancyScopeInfo));
	if (ensure_cache())
		entry = hash_search(scope_hash, &administration_id, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	info->rights = entry->rights;
	info->client_id = entry->client_id;
	info->state = entry->state;
	return true;
}

static int
right_index(int bit)
{
	switch (bit)
	{
		case TENANCY_RIGHT_READ:
			return 0;
		case TENANCY_RIGHT_WRITE:
			return 1;
		case TENANCY_RIGHT_SUBMIT:
			return 2;
		default:
			return 3;
	}
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* ascending ids of the administrations with all rights of mask */
static ArrayType *
build_right_array(int mask)
{
	HASH_SEQ_STATUS seq;
	TenancyScopeEntry *entry;
	int64	   *ids;
	Datum	   *elems;
	int			n = 0;
	int			i;
	MemoryContext old;
	ArrayType  *result;

	ids = palloc(sizeof(int64) * Max(hash_get_num_entries(scope_hash), 1));
	hash_seq_init(&seq, scope_hash);
	while ((entry = hash_seq_search(&seq)) != NULL)
		if ((entry->rights & mask) == mask)
			ids[n++] = entry->administration_id;
	qsort(ids, n, sizeof(int64), compare_int64);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	old = MemoryContextSwitchTo(cache_context);
	result = construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
	pfree(ids);
	pfree(elems);
	return result;
}

/* the rights argument of a SQL function, as one bit; NULL is refused */
static int
parse_right_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("rights must not be null"),
				 errhint("Rights are read, write, submit and manage.")));
	return tenancy_catalog_parse_right(text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/* visible_administrations(rights text DEFAULT 'read') RETURNS bigint[] */
PG_FUNCTION_INFO_V1(tenancy_visible_administrations);
Datum
tenancy_visible_administrations(PG_FUNCTION_ARGS)
{
	int			bit = parse_right_arg(fcinfo, 0);
	int			idx = right_index(bit);

	if (!ensure_cache())
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT8OID));
	if (right_arrays[idx] == NULL)
		right_arrays[idx] = build_right_array(bit);
	/* a copy: the cached array belongs to the cache */
	PG_RETURN_ARRAYTYPE_P(DatumGetArrayTypePCopy(PointerGetDatum(right_arrays[idx])));
}

/* can(administration_id bigint, rights text DEFAULT 'read') RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_can);
Datum
tenancy_can(PG_FUNCTION_ARGS)
{
	int			bit = parse_right_arg(fcinfo, 1);

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((tenancy_visibility_rights(PG_GETARG_INT64(0)) & bit) != 0);
}

/* row_in_scope(administration_id bigint) RETURNS boolean: the wall */
PG_FUNCTION_INFO_V1(tenancy_row_in_scope);
Datum
tenancy_row_in_scope(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((tenancy_visibility_rights(PG_GETARG_INT64(0)) & TENANCY_IN_SCOPE) != 0);
}

/* row_readable(administration_id bigint) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_row_readable);
Datum
tenancy_row_readable(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((tenancy_visibility_rights(PG_GETARG_INT64(0)) & TENANCY_RIGHT_READ) != 0);
}

/* row_writable(administration_id bigint) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_row_writable);
Datum
tenancy_row_writable(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((tenancy_visibility_rights(PG_GETARG_INT64(0)) & TENANCY_RIGHT_WRITE) != 0);
}

/* my_rights() RETURNS TABLE (administration_id bigint, rights text[]) */
PG_FUNCTION_INFO_V1(tenancy_my_rights);
Datum
tenancy_my_rights(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext old;
	HASH_SEQ_STATUS seq;
	TenancyScopeEntry *entry;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);

	if (ensure_cache())
	{
		hash_seq_init(&seq, scope_hash);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};
			int			mask = entry->rights & TENANCY_RIGHTS_ALL;

			if (mask == 0)
				continue;
			values[0] = Int64GetDatum(entry->administration_id);
			values[1] = PointerGetDatum(tenancy_catalog_rights_array(mask));
			tuplestore_putvalues(store, tupdesc, values, nulls);
		}
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}

/*
 * column_pinned: does a restriction of the relation compare the column for
 * equality (in the index's operator family) with a value that is constant
 * during the scan?
 */
static bool
column_pinned(RelOptInfo *rel, Node *column, Oid opfamily)
{
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		OpExpr	   *op = (OpExpr *) rinfo->clause;
		Node	   *left;
		Node	   *right;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
			get_op_opfamily_strategy(op->opno, opfamily) != BTEqualStrategyNumber)
			continue;
		left = strip_implicit_coercions(linitial(op->args));
		right = strip_implicit_coercions(lsecond(op->args));
		if ((equal(left, column) && !contain_var_clause(right) &&
			 !contain_volatile_functions(right)) ||
			(equal(right, column) && !contain_var_clause(left) &&
			 !contain_volatile_functions(left)))
			return true;
	}
	return false;
}

/*
 * row_support(internal) RETURNS internal: planner support for row_in_scope,
 * row_readable and row_writable.
 *
 * Index condition: "f(col)" becomes "col = ANY (visible_administrations(r))",
 * exact (not lossy): the array holds precisely the ids for which f is true.
 * The array is computed once per index scan, so a user with three
 * administrations reads three index ranges, whatever the table's size.
 *
 * Selectivity: the share of the column's distinct values that the identity
 * may see, so the planner costs a scan for three administrations and one
 * for a thousand differently.
 */
PG_FUNCTION_INFO_V1(tenancy_row_support);
Datum
tenancy_row_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestIndexCondition))
	{
		SupportRequestIndexCondition *req = (SupportRequestIndexCondition *) rawreq;
		FuncExpr   *fexpr = (FuncExpr *) req->node;
		const char *right;
		Oid			argtypes[1] = {TEXTOID};
		Oid			visible_fn;
		FuncExpr   *array_expr;
		ScalarArrayOpExpr *saop;
		char	   *fname;
		Oid			eq_op;

		if (!IsA(fexpr, FuncExpr) || req->indexarg != 0 ||
			list_length(fexpr->args) != 1 ||
			exprType(linitial(fexpr->args)) != INT8OID)
			PG_RETURN_POINTER(NULL);
		/* a btree family with bigint equality, such as integer_ops */
		eq_op = get_opfamily_member(req->opfamily, INT8OID, INT8OID,
									BTEqualStrategyNumber);
		if (!OidIsValid(eq_op))
			PG_RETURN_POINTER(NULL);

		/*
		 * A query that names one administration ("col = $1") needs no list:
		 * its own equality is the better index condition, and with ours added
		 * the plan cache would judge the generic plan too costly and plan
		 * every execution anew.  The check stays a filter then.
		 */
		if (column_pinned(req->index->rel, linitial(fexpr->args), req->opfamily))
			PG_RETURN_POINTER(NULL);

		/* the wall (row_in_scope) gives no index condition: it is wide */
		fname = get_func_name(fexpr->funcid);
		if (fname == NULL || strcmp(fname, "row_in_scope") == 0)
			PG_RETURN_POINTER(NULL);
		right = strcmp(fname, "row_writable") == 0 ? "write" : "read";

		visible_fn = LookupFuncName(list_make2(makeString("tenancy"),
											   makeString("visible_administrations")),
									1, argtypes, true);
		if (!OidIsValid(visible_fn))
			PG_RETURN_POINTER(NULL);

		array_expr = makeFuncExpr(visible_fn, INT8ARRAYOID,
								  list_make1(makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
													   CStringGetTextDatum(right),
													   false, false)),
								  InvalidOid, DEFAULT_COLLATION_OID,
								  COERCE_EXPLICIT_CALL);
		saop = makeNode(ScalarArrayOpExpr);
		saop->opno = eq_op;
		saop->opfuncid = get_opcode(eq_op);
		saop->useOr = true;
		saop->inputcollid = InvalidOid;
		saop->args = list_make2(copyObject(linitial(fexpr->args)), array_expr);
		saop->location = -1;

		req->lossy = false;
		PG_RETURN_POINTER(list_make1(saop));
	}

	if (IsA(rawreq, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) rawreq;
		VariableStatData vardata;
		bool		isdefault;
		double		ndistinct;
		double		nvisible;
		char	   *fname;
		int			bit;

		if (req->is_join || list_length(req->args) != 1)
			PG_RETURN_POINTER(NULL);
		fname = get_func_name(req->funcid);
		if (fname && strcmp(fname, "row_writable") == 0)
			bit = TENANCY_RIGHT_WRITE;
		else if (fname && strcmp(fname, "row_in_scope") == 0)
			bit = TENANCY_IN_SCOPE;
		else
			bit = TENANCY_RIGHT_READ;

		nvisible = ensure_cache() ? count_with_right(bit) : 0;

		examine_variable(req->root, linitial(req->args), req->varRelid, &vardata);
		ndistinct = get_variable_numdistinct(&vardata, &isdefault);
		ReleaseVariableStats(vardata);
		if (isdefault || ndistinct < 1)
			PG_RETURN_POINTER(NULL);

		req->selectivity = Min(1.0, Max(nvisible, 0.5) / ndistinct);
		PG_RETURN_POINTER(req);
	}

	PG_RETURN_POINTER(NULL);
}
