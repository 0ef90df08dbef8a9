/*-------------------------------------------------------------------------
 *
 * visibility.c
 *	  What the current identity may see and do: the per-backend cache
 *	  behind the row-security policies, and the functions that read it.
 *
 * A pooled application server changes user on nearly every request, and a
 * large firm has tens of thousands of administrations, so the cache holds
 * many identities and loads what it is asked, not whole compartments.
 * Everything lives in one memory context, TenancyVisibilityCache.
 *
 *	facts		administration id -> compartment, client, state.  Shared by
 *				all identities; filled by the loads below and by a one-row
 *				probe; an id that does not exist is cached as compartment 0.
 *	identities	identity key (user id, or -(role oid) for a reporting
 *				login) -> TenancyIdentityRights: the identity's effective
 *				rights (TENANCY_IN_SCOPE | rights masked by the state) as
 *				a sorted array of administration ids, searched by bisection.
 *				An identity starts *partial*: each administration it is asked
 *				about costs one probe (the administration's facts, then the
 *				permission, archive rule and delegations by index probes),
 *				so a new user's first check never costs work proportional
 *				to its compartment.  After PROBES_BEFORE_COMPLETE probes, or when a
 *				whole list is needed (visible_administrations, my_rights, the
 *				planner's selectivity), the identity is loaded *complete*:
 *				every administration on which it holds a right.  An
 *				administration missing from a complete identity carries no
 *				right; whether it is inside the wall is then a facts lookup.
 *	fast slots	direct-mapped administration id -> rights of the current
 *				identity, invalidated by a generation counter.  The policies'
 *				hot path: one array probe per row.
 *
 * The rights themselves are rights.c's: this file asks it on a miss (a
 * probe, a complete load, a reporting binding) and stores its answers; it
 * derives nothing but the state's mask of a uniform identity, with the mask
 * rights.c gives for the state.
 *
 * Switching to an identity the backend has seen is a hash lookup and a
 * generation bump.  Memory is bounded by tenancy.cache_entries (rights
 * entries plus facts plus IDENTITY_COST per identity): past it the least
 * recently used identities are dropped, then the facts.
 *
 * Invariant: every entry of an identity carries TENANCY_IN_SCOPE (a right
 * exists only inside the wall, or through a live delegation).  planner.c
 * relies on it to drop the wall where a read or write check implies it.
 *
 * Invalidation.  A statement trigger on the catalog tables that decide
 * rights (triggers.c) registers a relcache invalidation of
 * tenancy.permission; PostgreSQL delivers it to every backend when the
 * writer commits, and our callback only sets a flag.  A backend reads its
 * invalidations when it starts a transaction or locks a relation anew;
 * inside a transaction block a statement whose relations are all locked
 * already (a prepared statement, a PL/pgSQL loop) would read none, and a
 * committed revoke or disable_user would not reach it.  So the first
 * answer of every statement accepts them itself (R7: the next statement
 * reads with the new rights).  What changed is then
 * read from the audit log: every such change appends an entry naming its
 * compartment (R22), and writers append under a self-conflicting lock held
 * to commit (audit.c), so entry ids grow in commit order and "entries
 * after the last one seen" is exactly what committed since.  The backend
 * drops the identities and facts of those compartments only, plus every
 * identity holding a delegation (its rights depend on another compartment)
 * and the cached absence of administrations.  Entries of the backend's own
 * transaction, a change without an entry (an invalidation we cannot
 * explain), a relcache reset, and any load made under a transaction
 * snapshot (REPEATABLE READ, SERIALIZABLE) flush the whole cache instead,
 * at the end of the transaction or at once.  Loads run under a fresh
 * snapshot (outside parallel mode), so a load right after an invalidation
 * sees the change that caused it.
 *
 * Plans of the cache's queries are prepared once and generic (catalog.c).
 *
 * On a Citus worker the catalog tables are empty; the probes read the
 * coordinator's replicas (probe.c), the loads run their queries on the
 * replicas' local placements (rights.c), and since the coordinator's
 * changes send no invalidation there, the cache is dropped when the
 * replicas' version changes, checked at every statement (synchronize).
 * Parallel workers receive the identity with the leader's settings and
 * build their own cache under the leader's snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "tenancy.h"

/* probes an identity answers before it is loaded complete */
#define PROBES_BEFORE_COMPLETE	32
/* a complete load of at least this many equal rights checks for "all of them" */
#define UNIFORM_MIN				256
/* what an identity costs against tenancy.cache_entries, besides entries */
#define IDENTITY_COST			16
/* entry flag: the right comes (also) from a delegation */
#define RIGHT_DELEGATED			0x40

/* facts of one administration */
typedef struct TenancyAdministrationFacts
{
	int64		administration_id;	/* hash key */
	int64		compartment_id; /* 0: no such administration */
	int64		client_id;
	uint8		allowed;		/* rights its state allows */
	char		state;			/* 'a'ctive, a'r'chived, 'd'eleted */
} TenancyAdministrationFacts;

/* what one identity may do */
typedef struct TenancyIdentityRights
{
	int64		key;			/* hash key: user id, or -(role oid) */
	int64		compartment_id;
	bool		header_known;	/* sees_nothing is known */
	bool		sees_nothing;	/* disabled or gone user, unbound login */
	bool		complete;		/* the arrays hold every right */
	bool		delegated;		/* some right comes from a delegation */
	int			uniform_mask;	/* complete: this mask on every administration
								 * of the compartment, beside the entries */
	int			nprobes;
	int			nentries;		/* used length of ids[] and rights[] */
	int			capacity;
	int64	   *ids;			/* ascending administration ids */
	uint8	   *rights;			/* IN_SCOPE | rights | RIGHT_DELEGATED */
	TimestampTz expire_at;		/* first end of a delegation, or 0 */
	int			scope_count;	/* administrations of the compartment, or -1 */
	int			right_counts[4];	/* when complete, per right, or -1 */
	ArrayType  *right_arrays[4];	/* when complete, per right, or NULL */
	dlist_node	lru;
} TenancyIdentityRights;

typedef struct TenancyFastSlot
{
	int64		administration_id;
	uint32		generation;
	int			rights;
} TenancyFastSlot;

#define FAST_SLOTS 4096

static MemoryContext cache_context = NULL;
static HTAB *facts_hash = NULL;
static HTAB *identity_hash = NULL;
static dlist_head identity_lru = DLIST_STATIC_INIT(identity_lru);
static TenancyIdentityRights *current = NULL;
static long cached_entries = 0;
static TenancyFastSlot fast_slots[FAST_SLOTS];
static uint32 fast_generation = 1;

/* what the cache did, for tenancy.cache_statistics() */
static int64 stat_probes = 0;
static int64 stat_complete_loads = 0;
static int64 stat_compartments_forgotten = 0;
static int64 stat_flushes = 0;

/* tenancy.cache_entries */
static int	cache_entries_limit = 1000000;

/* invalidation state, set by the callbacks and by loads */
static Oid	watched_relid = InvalidOid;
static bool sync_pending = true;
static bool flush_pending = false;
static bool flush_at_xact_end = false;
static int64 last_audit_id = -1;	/* -1: not read yet */
static TimestampTz accepted_at = 0; /* statement that last accepted them */
static int64 replica_version = -1;	/* Citus worker: the replicas' version the cache is of */


/* the reporting binding of the session user, if any (R14, R15) */
static bool binding_valid = false;
static Oid	binding_role = InvalidOid;
static int64 binding_compartment = 0;	/* 0: the session user is not bound */

static void visibility_relcache_callback(Datum arg, Oid relid);
static void visibility_xact_callback(XactEvent event, void *arg);
static void bump_generation(void);
static HTAB *create_hash(const char *name, Size entrysize, long nelem);
static void create_cache(void);
static void flush_cache(void);
static void synchronize(void);
static void read_changes(void);
static void forget_compartment(int64 compartment_id);
static void forget_identity(TenancyIdentityRights *identity);
static void enforce_limit(void);
static void note_snapshot(void);
static TenancyAdministrationFacts *remember_facts(int64 id, int64 compartment_id,
												  int64 client_id, char state);
static TenancyAdministrationFacts *facts_of(int64 administration_id);
static void add_entry(TenancyIdentityRights *identity, int64 id, int rights);
static int	entry_index(TenancyIdentityRights *identity, int64 id);
static void reset_entries(TenancyIdentityRights *identity);
static int	masked(TenancyAdministrationFacts *facts, int mask);
static void load_binding(Oid role);
static void load_user_header(TenancyIdentityRights *identity);
static void load_complete(TenancyIdentityRights *identity);
static bool uniform_rows(const TenancyRightsRow *rows, int n);
static void add_rows(TenancyIdentityRights *identity, const TenancyRightsRow *rows,
					 int from, int n, bool facts_only);
static void reserve_entries(TenancyIdentityRights *identity, int n);
static void expand_uniform(TenancyIdentityRights *identity);
static void load_user_rights(TenancyIdentityRights *identity);
static void load_reporting_rights(TenancyIdentityRights *identity);
static void probe_rights(TenancyIdentityRights *identity, int64 administration_id);
static TenancyIdentityRights *current_identity(void);
static int	identity_rights(TenancyIdentityRights *identity, int64 administration_id,
							TenancyAdministrationFacts **facts);
static void require_complete(TenancyIdentityRights *identity);
static int	count_with_right(TenancyIdentityRights *identity, int bit);
static ArrayType *build_right_array(TenancyIdentityRights *identity, int bit);
static int	parse_right_arg(FunctionCallInfo fcinfo, int argno);

/*
 * tenancy_visibility_init: the setting and the callbacks (called from
 * _PG_init)
 */
void
tenancy_visibility_init(void)
{
	/*
	 * Memory is the DBA's call, not a session's: superuser-only, so that a
	 * login cannot make the backends it uses grow.
	 */
	DefineCustomIntVariable("tenancy.cache_entries",
							"Entries a backend keeps in its visibility cache.",
							"Each right of a cached identity and each cached administration counts as one entry, each identity as "
							CppAsString2(IDENTITY_COST) ". Least recently used identities are dropped beyond it.",
							&cache_entries_limit,
							1000000, 1000, INT_MAX / 2,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(visibility_relcache_callback, (Datum) 0);
	RegisterXactCallback(visibility_xact_callback, NULL);
}

/* invalidation callbacks only set flags */
static void
visibility_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
		flush_pending = true;
	else if (relid == watched_relid || !OidIsValid(watched_relid))
		sync_pending = true;
}

static void
visibility_xact_callback(XactEvent event, void *arg)
{
	if (flush_at_xact_end &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT))
	{
		flush_at_xact_end = false;
		flush_pending = true;
	}
}

/* every fast slot stale at once */
static void
bump_generation(void)
{
	if (++fast_generation == 0)
	{
		memset(fast_slots, 0, sizeof(fast_slots));
		fast_generation = 1;
	}
}

/* a hash table keyed by an int64, in the cache's context */
static HTAB *
create_hash(const char *name, Size entrysize, long nelem)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = entrysize;
	ctl.hcxt = cache_context;
	return hash_create(name, nelem, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
create_cache(void)
{
	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(TopMemoryContext,
											  "TenancyVisibilityCache",
											  ALLOCSET_DEFAULT_SIZES);
	facts_hash = create_hash("tenancy administration facts",
							 sizeof(TenancyAdministrationFacts), 1024);
	identity_hash = create_hash("tenancy identities",
								sizeof(TenancyIdentityRights), 64);
	dlist_init(&identity_lru);
}

/* drop everything (the context is kept) */
static void
flush_cache(void)
{
	stat_flushes++;
	if (cache_context != NULL)
		MemoryContextReset(cache_context);
	facts_hash = NULL;
	identity_hash = NULL;
	dlist_init(&identity_lru);
	current = NULL;
	cached_entries = 0;
	binding_valid = false;
	bump_generation();
}

/*
 * synchronize: apply what the callbacks noted, keep within the limit.
 * Runs before every answer; costs a timestamp and two flag tests when
 * nothing happened.
 */
static void
synchronize(void)
{
	if (GetCurrentStatementStartTimestamp() != accepted_at)
	{
		accepted_at = GetCurrentStatementStartTimestamp();
		AcceptInvalidationMessages();
		/*
		 * A Citus worker learns of the coordinator's grants and revokes by
		 * no invalidation (they write the replicas, not its catalog): it
		 * keeps what it read while the replicas' version stays the same.
		 */
		if (tenancy_probe_replica())
		{
			int64		version = tenancy_probe_replica_version();

			if (version != replica_version)
			{
				replica_version = version;
				flush_cache();
			}
		}
	}
	if (flush_pending)
	{
		flush_pending = false;
		flush_cache();
		tenancy_probe_forget();
		sync_pending = true;	/* find where the log stands */
	}
	if (sync_pending)
	{
		Oid			relid = tenancy_catalog_relid("permission");

		sync_pending = false;
		if (relid != watched_relid)
		{
			/* the extension was (re)created: another catalog, another log */
			flush_cache();
			tenancy_probe_forget();
			last_audit_id = -1;
			watched_relid = relid;
		}
		read_changes();
	}
	if (facts_hash == NULL)
		create_cache();
	if (cached_entries > cache_entries_limit)
		enforce_limit();
}

/*
 * apply_changes: read_changes' reader of the audit entries appended since
 * the last look; sets *flush when an entry says to forget everything
 */
static void
apply_changes(int n, void *arg)
{
	bool	   *flush = (bool *) arg;
	int			i;

	for (i = 0; i < n && !*flush; i++)
	{
		bool		isnull;
		TransactionId xmin;
		int64		compartment_id;

		tenancy_catalog_get_int64(i, 0, &last_audit_id);
		xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 3, &isnull));
		if (TransactionIdIsCurrentTransactionId(xmin))
			flush_at_xact_end = true;	/* our own, maybe rolled back */
		if (!tenancy_catalog_get_int64(i, 1, &compartment_id))
			*flush = true;
		else
			forget_compartment(compartment_id);
		if (tenancy_catalog_get_bool(i, 3) && facts_hash != NULL)
		{
			char	   *object_id = tenancy_catalog_get_text(i, 4);
			int64		id;

			/* an administration that changed compartment is dropped by id too */
			if (object_id != NULL)
			{
				char	   *end;

				id = strtoi64(object_id, &end, 10);
				if (*end == '\0' &&
					hash_search(facts_hash, &id, HASH_REMOVE, NULL) != NULL)
					cached_entries--;
			}
		}
	}
}

/*
 * read_changes: forget what the audit entries appended since the last
 * look concern (see the file header)
 */
static void
read_changes(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		flush = false;

	if (!OidIsValid(tenancy_catalog_relid("audit_entry")))
	{
		flush_cache();			/* no catalog (dropped, or not created yet) */
		last_audit_id = -1;
		return;
	}

	if (last_audit_id < 0)
	{
		static SPIPlanPtr end_plan = NULL;

		/* the first look: whatever is cached predates the log's end */
		tenancy_catalog_query(&end_plan,
							  "SELECT coalesce(max(e.id), 0) FROM tenancy.audit_entry e",
							  0, NULL, NULL, NULL, &last_audit_id, 1, NULL, 0);
		flush = (identity_hash != NULL && hash_get_num_entries(identity_hash) > 0);
	}
	else
	{
		values[0] = Int64GetDatum(last_audit_id);
		if (tenancy_catalog_read(&plan,
								 "SELECT e.id, e.compartment_id, e.xmin,"
								 "       e.object_type = 'administration', e.object_id"
								 "  FROM tenancy.audit_entry e"
								 " WHERE e.id > $1 ORDER BY e.id",
								 1, argtypes, values, apply_changes, &flush) == 0)
			flush = true;		/* an invalidation no entry explains */
	}

	binding_valid = false;
	if (flush)
		flush_cache();
}

/* forget the identities and facts of one compartment (see the header) */
static void
forget_compartment(int64 compartment_id)
{
	HASH_SEQ_STATUS seq;

	stat_compartments_forgotten++;
	if (identity_hash != NULL)
	{
		TenancyIdentityRights *identity;

		hash_seq_init(&seq, identity_hash);
		while ((identity = hash_seq_search(&seq)) != NULL)
			if (identity->compartment_id == compartment_id || identity->delegated)
				forget_identity(identity);
	}
	if (facts_hash != NULL)
	{
		TenancyAdministrationFacts *facts;

		hash_seq_init(&seq, facts_hash);
		while ((facts = hash_seq_search(&seq)) != NULL)
			if (facts->compartment_id == compartment_id || facts->compartment_id == 0)
			{
				hash_search(facts_hash, &facts->administration_id, HASH_REMOVE, NULL);
				cached_entries--;
			}
	}
	bump_generation();
}

static void
forget_identity(TenancyIdentityRights *identity)
{
	int			i;

	if (identity == current)
		current = NULL;
	if (identity->ids != NULL)
		pfree(identity->ids);
	if (identity->rights != NULL)
		pfree(identity->rights);
	for (i = 0; i < lengthof(identity->right_arrays); i++)
		if (identity->right_arrays[i] != NULL)
			pfree(identity->right_arrays[i]);
	cached_entries -= identity->capacity + IDENTITY_COST;
	dlist_delete(&identity->lru);
	hash_search(identity_hash, &identity->key, HASH_REMOVE, NULL);
	bump_generation();
}

/* drop least recently used identities, then the facts, past the limit */
static void
enforce_limit(void)
{
	while (cached_entries > cache_entries_limit && !dlist_is_empty(&identity_lru))
	{
		TenancyIdentityRights *oldest = dlist_tail_element(TenancyIdentityRights, lru,
														   &identity_lru);

		if (oldest == current)
			break;
		forget_identity(oldest);
	}
	if (cached_entries > cache_entries_limit && facts_hash != NULL &&
		hash_get_num_entries(facts_hash) > cache_entries_limit / 2)
	{
		cached_entries -= hash_get_num_entries(facts_hash);
		hash_destroy(facts_hash);
		facts_hash = create_hash("tenancy administration facts",
								 sizeof(TenancyAdministrationFacts), 1024);
		bump_generation();
	}
}

/* what is loaded under a transaction snapshot lives until its end */
static void
note_snapshot(void)
{
	if (IsolationUsesXactSnapshot())
		flush_at_xact_end = true;
}

static TenancyAdministrationFacts *
remember_facts(int64 id, int64 compartment_id, int64 client_id, char state)
{
	bool		found;
	TenancyAdministrationFacts *facts = hash_search(facts_hash, &id, HASH_ENTER, &found);

	if (!found)
		cached_entries++;
	facts->compartment_id = compartment_id;
	facts->client_id = client_id;
	facts->state = state;
	facts->allowed = tenancy_rights_state_allows(state);
	return facts;
}

/* the facts of one administration, probed when not cached */
static TenancyAdministrationFacts *
facts_of(int64 administration_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	TenancyAdministrationFacts *facts;
	int64		ints[2];
	char	   *state = NULL;

	facts = hash_search(facts_hash, &administration_id, HASH_FIND, NULL);
	if (facts != NULL)
		return facts;

	note_snapshot();
	if (tenancy_probe_available())
	{
		const char *state_text;

		if (!tenancy_probe_administration(administration_id, &ints[0], &ints[1],
										  &state_text))
			return remember_facts(administration_id, 0, 0, 0);
		return remember_facts(administration_id, ints[0], ints[1],
							  tenancy_rights_state_code(state_text));
	}
	values[0] = Int64GetDatum(administration_id);
	if (tenancy_catalog_query(&plan,
							  "SELECT a.compartment_id, a.client_id, a.state"
							  "  FROM tenancy.administration a WHERE a.id = $1",
							  1, argtypes, values, NULL, ints, 2, &state, 1) != 1)
		return remember_facts(administration_id, 0, 0, 0);
	return remember_facts(administration_id, ints[0], ints[1],
						  tenancy_rights_state_code(state));
}

/*
 * the rights a state leaves of a permission's mask, inside the wall: the
 * rule of tenancy_rights_effective for a uniform identity, with the state's
 * mask taken from rights.c once per administration (facts->allowed)
 */
static int
masked(TenancyAdministrationFacts *facts, int mask)
{
	return TENANCY_IN_SCOPE | (mask & facts->allowed);
}

/* position of id in the identity's sorted entries, or -1 */
static int
entry_index(TenancyIdentityRights *identity, int64 id)
{
	int			lo = 0;
	int			hi = identity->nentries - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (identity->ids[mid] == id)
			return mid;
		if (identity->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* add (or merge into) an entry, keeping the ids sorted */
static void
add_entry(TenancyIdentityRights *identity, int64 id, int rights)
{
	int			pos = entry_index(identity, id);

	if (pos >= 0)
	{
		identity->rights[pos] |= rights;
		return;
	}
	if (identity->nentries == identity->capacity)
	{
		int			grow = Max(8, identity->capacity);

		if (identity->ids == NULL)
		{
			identity->ids = MemoryContextAlloc(cache_context, sizeof(int64) * grow);
			identity->rights = MemoryContextAlloc(cache_context, grow);
		}
		else
		{
			identity->ids = repalloc(identity->ids, sizeof(int64) * (identity->capacity + grow));
			identity->rights = repalloc(identity->rights, identity->capacity + grow);
		}
		identity->capacity += grow;
		cached_entries += grow;
	}
	for (pos = identity->nentries; pos > 0 && identity->ids[pos - 1] > id; pos--)
	{
		identity->ids[pos] = identity->ids[pos - 1];
		identity->rights[pos] = identity->rights[pos - 1];
	}
	identity->ids[pos] = id;
	identity->rights[pos] = rights;
	identity->nentries++;
	if (rights & RIGHT_DELEGATED)
		identity->delegated = true;
}

static void
reset_entries(TenancyIdentityRights *identity)
{
	int			i;

	identity->nentries = 0;
	identity->complete = false;
	identity->delegated = false;
	identity->uniform_mask = 0;
	identity->expire_at = 0;
	for (i = 0; i < lengthof(identity->right_arrays); i++)
	{
		if (identity->right_arrays[i] != NULL)
			pfree(identity->right_arrays[i]);
		identity->right_arrays[i] = NULL;
		identity->right_counts[i] = -1;
	}
	bump_generation();
}

/* a delegation's end, after which the identity must be reloaded */
static void
note_expiry(TenancyIdentityRights *identity, TimestampTz until)
{
	if (identity->expire_at == 0 || until < identity->expire_at)
		identity->expire_at = until;
}

/*
 * load_binding: the compartment a reporting login is bound to, or 0
 */
static void
load_binding(Oid role)
{
	note_snapshot();
	binding_compartment = tenancy_rights_binding(role);
	binding_role = role;
	binding_valid = true;
}

/* is the user enabled, in the identity's compartment (R2)? */
static void
load_user_header(TenancyIdentityRights *identity)
{
	note_snapshot();
	identity->sees_nothing = !tenancy_rights_user_active(identity->key,
														 identity->compartment_id);
	identity->header_known = true;
}

/*
 * probe_rights: what a user may do on one administration, as rights.c
 * derives it from the sources (permission, archive rule, delegations) and
 * the administration's facts (cached here): index probes, no list
 */
static void
probe_rights(TenancyIdentityRights *identity, int64 administration_id)
{
	TenancyAdministrationFacts *facts;
	TenancyRightsSources src;
	int			rights;

	if (!identity->header_known)
		load_user_header(identity);
	identity->nprobes++;
	stat_probes++;
	if (identity->sees_nothing)
		return;
	facts = facts_of(administration_id);
	note_snapshot();
	tenancy_rights_sources(identity->key, identity->compartment_id,
						   administration_id, facts->compartment_id,
						   GetCurrentStatementStartTimestamp(), &src);
	if (src.delegated != 0)
		note_expiry(identity, src.delegated_until);
	rights = tenancy_rights_effective(true, identity->compartment_id,
									  facts->compartment_id, facts->state, &src);
	if (rights != 0)
		add_entry(identity, administration_id,
				  rights | (src.delegated != 0 ? RIGHT_DELEGATED : 0));
}

/* do the first n rows of a load carry the same rights? */
static bool
uniform_rows(const TenancyRightsRow *rows, int n)
{
	int			i;

	for (i = 1; i < n; i++)
		if (rows[i].rights != rows[0].rights)
			return false;
	return true;
}

/* room for n more entries, allocated once */
static void
reserve_entries(TenancyIdentityRights *identity, int n)
{
	int			need = identity->nentries + n;

	if (need <= identity->capacity)
		return;
	if (identity->ids == NULL)
	{
		identity->ids = MemoryContextAlloc(cache_context, sizeof(int64) * need);
		identity->rights = MemoryContextAlloc(cache_context, need);
	}
	else
	{
		identity->ids = repalloc(identity->ids, sizeof(int64) * need);
		identity->rights = repalloc(identity->rights, need);
	}
	cached_entries += need - identity->capacity;
	identity->capacity = need;
}

/* expand_uniform's reader: an entry for each administration */
static void
add_uniform_entries(int n, void *arg)
{
	TenancyIdentityRights *identity = (TenancyIdentityRights *) arg;
	int			i;

	reserve_entries(identity, n);
	for (i = 0; i < n; i++)
	{
		int64		id = 0;
		int64		compartment_id = 0;
		int64		client_id = 0;
		char	   *state = tenancy_catalog_get_text(i, 3);
		TenancyAdministrationFacts *facts;

		tenancy_catalog_get_int64(i, 0, &id);
		tenancy_catalog_get_int64(i, 1, &compartment_id);
		tenancy_catalog_get_int64(i, 2, &client_id);
		facts = remember_facts(id, compartment_id, client_id,
							   tenancy_rights_state_code(state));
		add_entry(identity, id, masked(facts, identity->uniform_mask));
	}
}

/*
 * expand_uniform: turn a uniform identity into entries, one per
 * administration of its compartment, for the callers that need the list
 */
static void
expand_uniform(TenancyIdentityRights *identity)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	if (identity->uniform_mask == 0)
		return;
	values[0] = Int64GetDatum(identity->compartment_id);
	note_snapshot();
	tenancy_rights_read(&plan,
						"SELECT a.id, a.compartment_id, a.client_id, a.state"
						"  FROM tenancy.administration a WHERE a.compartment_id = $1"
						" ORDER BY a.id",
						1, argtypes, values, add_uniform_entries, identity);
	identity->uniform_mask = 0;
}

/*
 * add_rows: the n rows of a complete load from position from: their facts,
 * and (unless facts_only) the rights rights.c derives from each
 */
static void
add_rows(TenancyIdentityRights *identity, const TenancyRightsRow *rows,
		 int from, int n, bool facts_only)
{
	int			i;

	for (i = from; i < n; i++)
	{
		const TenancyRightsRow *row = &rows[i];
		int			rights;

		(void) remember_facts(row->administration_id, row->compartment_id,
							  row->client_id, row->state);
		if (facts_only)
			continue;
		rights = tenancy_rights_row_effective(row, identity->compartment_id);
		if (rights == 0)
			continue;
		if (row->source == TENANCY_RIGHTS_FROM_DELEGATION)
		{
			rights |= RIGHT_DELEGATED;
			note_expiry(identity, row->until);
		}
		add_entry(identity, row->administration_id, rights);
	}
}

/*
 * load_user_rights: every right of a user (rights.c: its permissions, the
 * archives it reads (R18), its live delegations (R20)), with their facts
 */
static void
load_user_rights(TenancyIdentityRights *identity)
{
	TenancyRightsRow *rows;
	int			n;
	int			npermissions;
	int			from = 0;

	note_snapshot();
	rows = tenancy_rights_load_user(identity->key, identity->compartment_id,
									&n, &npermissions);
	if (npermissions >= UNIFORM_MIN && uniform_rows(rows, npermissions) &&
		count_with_right(identity, TENANCY_IN_SCOPE) == npermissions)
	{
		/*
		 * The same rights on every administration of the compartment (the
		 * firm's staff, typically): one mask instead of n entries.
		 */
		identity->uniform_mask = rows[0].rights;
		add_rows(identity, rows, 0, npermissions, true);
		from = npermissions;
	}
	reserve_entries(identity, n - from);
	add_rows(identity, rows, from, n, false);
	if (rows != NULL)
		pfree(rows);
}

/*
 * load_reporting_rights: read, and nothing else, on the administrations of
 * the binding's scope (its compartment, client and codes) (R14, R15)
 */
static void
load_reporting_rights(TenancyIdentityRights *identity)
{
	TenancyRightsRow *rows;
	int			n;

	note_snapshot();
	rows = tenancy_rights_load_reporting((Oid) -identity->key, &n);
	reserve_entries(identity, n);
	add_rows(identity, rows, 0, n, false);
	if (rows != NULL)
		pfree(rows);
}

/* load the identity complete (every right it holds) */
static void
load_complete(TenancyIdentityRights *identity)
{
	stat_complete_loads++;
	reset_entries(identity);
	if (identity->key < 0)
	{
		identity->sees_nothing = false;
		identity->header_known = true;
		load_reporting_rights(identity);
	}
	else
	{
		load_user_header(identity);
		if (!identity->sees_nothing)
			load_user_rights(identity);
	}
	identity->complete = true;
}

static void
require_complete(TenancyIdentityRights *identity)
{
	if (!identity->complete)
		load_complete(identity);
}

/*
 * current_identity: the cache entry of the current identity, created (not
 * loaded) when new.  NULL when there is no identity (R2).
 */
static TenancyIdentityRights *
current_identity(void)
{
	const TenancyIdentity *ident = tenancy_identity_current();
	int64		key;
	int64		compartment_id;
	TenancyIdentityRights *identity;
	bool		found;

	synchronize();
	if (ident->user_id == 0)
	{
		/* no act-as identity: the session user's reporting binding, if any */
		Oid			role = GetSessionUserId();

		if (!binding_valid || binding_role != role)
			load_binding(role);
		if (binding_compartment == 0)
			return NULL;
		key = -(int64) role;
		compartment_id = binding_compartment;
	}
	else
	{
		key = ident->user_id;
		compartment_id = ident->compartment_id;
	}

	if (current != NULL && current->key == key &&
		current->compartment_id == compartment_id &&
		(current->expire_at == 0 ||
		 GetCurrentStatementStartTimestamp() < current->expire_at))
		return current;

	identity = hash_search(identity_hash, &key, HASH_ENTER, &found);
	if (found && (identity->compartment_id != compartment_id ||
				  (identity->expire_at != 0 &&
				   GetCurrentStatementStartTimestamp() >= identity->expire_at)))
	{
		/* moved to another compartment, or a delegation has ended */
		forget_identity(identity);
		identity = hash_search(identity_hash, &key, HASH_ENTER, &found);
	}
	if (!found)
	{
		memset(((char *) identity) + sizeof(int64), 0,
			   sizeof(TenancyIdentityRights) - sizeof(int64));
		identity->compartment_id = compartment_id;
		identity->scope_count = -1;
		memset(identity->right_counts, -1, sizeof(identity->right_counts));
		dlist_push_head(&identity_lru, &identity->lru);
		cached_entries += IDENTITY_COST;
		if (key < 0)
			load_complete(identity);	/* a reporting login reads lists */
	}
	else
		dlist_move_head(&identity_lru, &identity->lru);
	current = identity;
	bump_generation();
	return identity;
}

/*
 * identity_rights: the identity's rights on one administration
 * (TENANCY_IN_SCOPE | rights, 0 outside the wall).  With facts != NULL,
 * the administration's facts too (NULL when it does not exist).
 */
static int
identity_rights(TenancyIdentityRights *identity, int64 administration_id,
				TenancyAdministrationFacts **facts)
{
	int			pos;
	int			rights;
	TenancyAdministrationFacts *f = NULL;

	if (facts != NULL)
		*facts = NULL;
	if (identity == NULL)
		return 0;
	if (!identity->complete &&
		(!identity->header_known || entry_index(identity, administration_id) < 0))
	{
		if (identity->nprobes >= PROBES_BEFORE_COMPLETE)
			load_complete(identity);
		else
			probe_rights(identity, administration_id);
	}
	if (identity->sees_nothing)
		return 0;
	pos = entry_index(identity, administration_id);
	rights = pos >= 0 ? identity->rights[pos] & ~RIGHT_DELEGATED : 0;
	if (pos >= 0 && facts == NULL && identity->uniform_mask == 0)
		return rights;

	f = facts_of(administration_id);
	if (facts != NULL && f->compartment_id != 0)
		*facts = f;
	if (f->compartment_id == identity->compartment_id)
		rights |= identity->uniform_mask != 0 ?
			masked(f, identity->uniform_mask) : TENANCY_IN_SCOPE;
	return rights;
}

/*
 * tenancy_visibility_reporting: does the session read as a reporting login
 * (no act-as identity, and its login bound to a scope)?
 */
bool
tenancy_visibility_reporting(void)
{
	return !tenancy_identity_is_set() && current_identity() != NULL;
}

/*
 * tenancy_visibility_rights: rights mask of the current identity on one
 * administration (0 outside its wall).  The policies' hot path.
 */
int
tenancy_visibility_rights(int64 administration_id)
{
	TenancyIdentityRights *identity = current_identity();
	TenancyFastSlot *slot;

	if (identity == NULL)
		return 0;
	slot = &fast_slots[(uint64) administration_id % FAST_SLOTS];
	if (slot->generation == fast_generation &&
		slot->administration_id == administration_id)
		return slot->rights;
	slot->rights = identity_rights(identity, administration_id, NULL);
	slot->administration_id = administration_id;
	slot->generation = fast_generation;
	return slot->rights;
}

/*
 * tenancy_visibility_lookup: rights, client and state of one administration
 * inside the identity's wall; false (and zeroes) outside it.
 */
bool
tenancy_visibility_lookup(int64 administration_id, TenancyScopeInfo *info)
{
	TenancyAdministrationFacts *facts;
	int			rights;

	memset(info, 0, sizeof(TenancyScopeInfo));
	rights = identity_rights(current_identity(), administration_id, &facts);
	if (rights == 0 || facts == NULL)
		return false;
	info->rights = rights;
	info->client_id = facts->client_id;
	info->state = facts->state;
	return true;
}

/* how many administrations the identity has the bit on (cached) */
static int
count_with_right(TenancyIdentityRights *identity, int bit)
{
	int			idx;
	int			i;

	if (bit == TENANCY_IN_SCOPE)
	{
		if (identity->scope_count < 0)
		{
			static SPIPlanPtr plan = NULL;
			Oid			argtypes[1] = {INT8OID};
			Datum		values[1];
			int64		count = 0;

			values[0] = Int64GetDatum(identity->compartment_id);
			note_snapshot();
			tenancy_rights_query(&plan,
								 "SELECT count(*) FROM tenancy.administration a"
								 " WHERE a.compartment_id = $1",
								 1, argtypes, values, &count, 1);
			identity->scope_count = (int) Min(count, INT_MAX);
		}
		return identity->scope_count;
	}

	require_complete(identity);
	idx = tenancy_rights_index(bit);
	if (identity->right_counts[idx] < 0)
	{
		int			n = 0;

		for (i = 0; i < identity->nentries; i++)
			if (identity->rights[i] & bit)
				n++;
		if (identity->uniform_mask & bit)
			n += count_with_right(identity, TENANCY_IN_SCOPE);
		identity->right_counts[idx] = n;
	}
	return identity->right_counts[idx];
}

/* ascending ids of the administrations the identity has the right on */
static ArrayType *
build_right_array(TenancyIdentityRights *identity, int bit)
{
	Datum	   *elems;
	int			n = 0;
	int			i;
	MemoryContext old;
	ArrayType  *result;

	/* the entries are sorted already */
	elems = palloc(sizeof(Datum) * Max(identity->nentries, 1));
	for (i = 0; !identity->sees_nothing && i < identity->nentries; i++)
		if (identity->rights[i] & bit)
			elems[n++] = Int64GetDatum(identity->ids[i]);
	old = MemoryContextSwitchTo(cache_context);
	result = construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
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
	return tenancy_rights_parse_one(text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/* visible_administrations(rights text DEFAULT 'read') RETURNS bigint[] */
PG_FUNCTION_INFO_V1(tenancy_visible_administrations);
Datum
tenancy_visible_administrations(PG_FUNCTION_ARGS)
{
	int			bit = parse_right_arg(fcinfo, 0);
	int			idx = tenancy_rights_index(bit);
	TenancyIdentityRights *identity = current_identity();

	if (identity == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT8OID));
	require_complete(identity);
	expand_uniform(identity);
	if (identity->right_arrays[idx] == NULL)
		identity->right_arrays[idx] = build_right_array(identity, bit);
	/* a copy: the cached array belongs to the cache */
	PG_RETURN_ARRAYTYPE_P(DatumGetArrayTypePCopy(PointerGetDatum(identity->right_arrays[idx])));
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
	TenancyIdentityRights *identity;
	int			i;

	TENANCY_INIT_MATERIALIZED_SRF(fcinfo, 0);
	identity = current_identity();
	if (identity != NULL)
	{
		require_complete(identity);
		expand_uniform(identity);
		for (i = 0; !identity->sees_nothing && i < identity->nentries; i++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};
			int			mask = identity->rights[i] & TENANCY_RIGHTS_ALL;

			CHECK_FOR_INTERRUPTS();
			if (mask == 0)
				continue;
			values[0] = Int64GetDatum(identity->ids[i]);
			values[1] = PointerGetDatum(tenancy_rights_array(mask));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * tenancy_visibility_count: on how many administrations the current
 * identity holds bit (a right, or TENANCY_IN_SCOPE); the planner's
 * selectivity (planner.c)
 */
int
tenancy_visibility_count(int bit)
{
	TenancyIdentityRights *identity = current_identity();

	return identity != NULL ? count_with_right(identity, bit) : 0;
}

/*
 * cache_statistics() RETURNS TABLE (identities, complete_identities, entries,
 * administrations, probes, complete_loads, compartments_forgotten, flushes):
 * this backend's visibility cache, for operators
 */
PG_FUNCTION_INFO_V1(tenancy_cache_statistics);
Datum
tenancy_cache_statistics(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false};
	int64		identities = 0;
	int64		complete = 0;
	int64		entries = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	synchronize();
	if (identity_hash != NULL)
	{
		HASH_SEQ_STATUS seq;
		TenancyIdentityRights *identity;

		hash_seq_init(&seq, identity_hash);
		while ((identity = hash_seq_search(&seq)) != NULL)
		{
			identities++;
			if (identity->complete)
				complete++;
			entries += identity->nentries;
		}
	}
	values[0] = Int64GetDatum(identities);
	values[1] = Int64GetDatum(complete);
	values[2] = Int64GetDatum(entries);
	values[3] = Int64GetDatum(facts_hash != NULL ? hash_get_num_entries(facts_hash) : 0);
	values[4] = Int64GetDatum(stat_probes);
	values[5] = Int64GetDatum(stat_complete_loads);
	values[6] = Int64GetDatum(stat_compartments_forgotten);
	values[7] = Int64GetDatum(stat_flushes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
