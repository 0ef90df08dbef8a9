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
 *				about costs one probe (the permission, then, unless the
 *				permission's compartment is known all active, the
 *				administration's facts, then the archive rule and
 *				delegations, by index probes; see probe_rights),
 *				so a new user's first check never costs work proportional
 *				to its compartment.  After PROBES_BEFORE_COMPLETE probes, and at
 *				least one probe per PROBE_COST_IN_RIGHTS administrations of
 *				its compartment (see there), or when a
 *				whole list is needed (visible_administrations, my_rights, the
 *				planner's selectivity), the identity is loaded *complete*:
 *				every administration on which it holds a right.  An
 *				administration missing from a complete identity carries no
 *				right; whether it is inside the wall is then a facts lookup.
 *	sizes		compartment id -> how many administrations it has, for the
 *				planner and for deciding when to load an identity complete,
 *				and which, once listed; a uniform identity's load (below)
 *				keeps its compartment's list, so that an administration of
 *				another firm in a shared table is found outside the wall
 *				without a probe.
 *	fast slots	direct-mapped administration id -> rights of the current
 *				identity, invalidated by a generation counter.  The policies'
 *				hot path: one array probe per row, without a look at the
 *				identity while the statement and the identity stay.
 *
 * The rights themselves are rights.c's: this file asks it on a miss (a
 * probe, a complete load, a reporting binding) and stores its answers; it
 * derives nothing but the state's mask of a uniform identity, with the mask
 * rights.c gives for the state.
 *
 * Switching to an identity the backend has seen is a hash lookup and a
 * generation bump; act_as_local reads such a user from the cache too
 * (tenancy_visibility_user), and seeds it with the user it probed for a
 * new one.  Memory is bounded by tenancy.cache_entries (rights
 * entries plus facts plus IDENTITY_COST per identity plus one per
 * compartment held): past it the compartments nothing is held of any
 * more are dropped (idle_compartments), then the least recently used
 * identities, then the facts.
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
 * reads with the new rights); a statement is one the client sent
 * (tenancy_statement_number, session.c: one message may hold several), or
 * a procedure's next transaction (tenancy_rights_now).  What changed is
 * then read from the audit log, under a snapshot taken then: every such change appends an entry naming its
 * compartment (R22), and writers append under a self-conflicting lock held
 * to commit (audit.c), so entry ids grow in commit order and "entries
 * after the last one seen" is exactly what committed since.  The backend
 * drops the identities and facts of those compartments only, plus every
 * identity holding a delegation (its rights depend on another compartment)
 * and the cached absence of administrations.  Identities and facts are
 * linked into per-compartment member lists, and the delegated identities
 * into one list, so a change costs what it forgets, not a walk of the whole
 * cache (50 changes a second would otherwise walk every backend's cache 50
 * times a second).  Changes of the backend's own transaction (its entries,
 * or the trigger that registers the invalidation), a change without an
 * entry (an invalidation we cannot explain), a relcache reset, and any load
 * made under a transaction snapshot (REPEATABLE READ, SERIALIZABLE) flush
 * the whole cache instead: at once, or at the end of the transaction
 * (commit, abort or PREPARE TRANSACTION), or when a subtransaction rolls
 * back after such a change (its entry is gone, so the log cannot tell
 * what the cache loaded under it).  Loads run under the snapshot of the
 * statement being answered, which sees the change behind an invalidation
 * accepted before it was taken; a snapshot that does not see a change the
 * cache applied is answered apart (check_snapshot).
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
/*
 * an identity is loaded complete only once its probes reach the size of its
 * compartment divided by this (callgrind: a probe ~20,000 instructions, a
 * complete load ~9,000 per right, so a load pays off after about one probe
 * per two administrations; 4 leans towards probing): a user of a firm of
 * 20,000 administrations met for a few hundred requests costs a probe per
 * new administration, not a load of its 20,000 rights per backend
 */
#define PROBE_COST_IN_RIGHTS	4
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
	dlist_node	member;			/* in its compartment's facts */
} TenancyAdministrationFacts;

/* what one identity may do */
typedef struct TenancyIdentityRights
{
	int64		key;			/* hash key: user id, or -(role oid) */
	int64		compartment_id;
	int64		account_id;		/* the user's account, when act_as_local
								 * seeded the entry (else 0) */
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
	int			array_entries;	/* elements of right_arrays, counted */
	dlist_node	lru;
	dlist_node	member;			/* in its compartment's identities */
	dlist_node	delegation;		/* in delegated_identities, when delegated */
} TenancyIdentityRights;

/* how many administrations a compartment has, and which */
typedef struct TenancyCompartmentSize
{
	int64		compartment_id; /* hash key */
	int			administrations;
	int64	   *ids;			/* ascending, NULL until listed */
} TenancyCompartmentSize;

/*
 * what the cache holds of one compartment, so that a change forgets it by
 * walking its own lists, not the whole cache (dynahash never moves an
 * entry, so the lists can link them); compartment 0 holds the facts of
 * administrations that do not exist
 */
typedef struct TenancyCompartmentMembers
{
	int64		compartment_id; /* hash key */
	dlist_head	identities;
	dlist_head	facts;
	dlist_node	idle;			/* in idle_compartments while both lists
								 * are empty */
	bool		idle_listed;
	int8		all_active;		/* every administration of it active: 1 or
								 * 0; -1 not probed (see probe_rights) */
} TenancyCompartmentMembers;

typedef struct TenancyFastSlot
{
	int64		administration_id;
	uint32		generation;
	int			rights;
} TenancyFastSlot;

#define FAST_SLOTS 4096

static MemoryContext cache_context = NULL;
static HTAB *facts_hash = NULL;
static HTAB *size_hash = NULL;
static HTAB *identity_hash = NULL;
static HTAB *members_hash = NULL;
/* the identities holding a right by delegation (delegated set) */
static dlist_head delegated_identities = DLIST_STATIC_INIT(delegated_identities);
static dlist_head identity_lru = DLIST_STATIC_INIT(identity_lru);
/* compartments the cache holds nothing of: the first to go past the bound */
static dlist_head idle_compartments = DLIST_STATIC_INIT(idle_compartments);
static TenancyIdentityRights *current = NULL;
static long cached_entries = 0;
static TenancyFastSlot fast_slots[FAST_SLOTS];
static uint32 fast_generation = 1;

/*
 * What the last full answer of tenancy_visibility_rights was given under:
 * the statement (its start and its number: one message may send several),
 * the count of identity installs and the session user.  While all stay and no invalidation is pending, current_identity()
 * would find what it found then, and a fast slot of the current generation
 * answers alone (fast_answer_holds).
 */
static TimestampTz fast_statement = 0;
static uint64 fast_number = 0;
static uint64 fast_installs = 0;
static Oid	fast_login = InvalidOid;	/* the session user */

/*
 * A snapshot as seen earlier: its address, and what tells a later one that
 * took the same memory apart (copies of snapshots are freed and their
 * memory reused within one statement).  xmin and xmax are not enough: a
 * transaction below xmax that commits while an older one stays open
 * changes neither (1.3 attack: a function's read after a revoke passed for
 * its first read, and answered with the rights of before).  But with xmin
 * and xmax the same, the running transactions can only have become fewer
 * (a new one gets an id at or above xmax), so their counts tell.
 */
typedef struct TenancySeenSnapshot
{
	Snapshot	snapshot;
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint32		xcnt;
	int32		subxcnt;
} TenancySeenSnapshot;

/*
 * the last active snapshot that took in invalidations (synchronize): a fast
 * slot answers only under it, since anything that changes an answer for
 * another snapshot (a change applied, one forgotten for an older snapshot)
 * bumps fast_generation on the way
 */
static TenancySeenSnapshot accepted_snapshot;
static TenancySeenSnapshot replay_snapshot;	/* the one replay_from is for */

/* is snapshot the one seen? */
static inline bool
same_snapshot(Snapshot snapshot, const TenancySeenSnapshot *seen)
{
	return snapshot == seen->snapshot && snapshot->xmin == seen->xmin &&
		snapshot->xmax == seen->xmax && snapshot->curcid == seen->curcid &&
		snapshot->xcnt == seen->xcnt && snapshot->subxcnt == seen->subxcnt;
}

/* remember the active snapshot (none: a snapshot no later one equals) */
static inline void
note_snapshot_seen(TenancySeenSnapshot *seen)
{
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	seen->snapshot = snapshot;
	if (snapshot != NULL)
	{
		seen->xmin = snapshot->xmin;
		seen->xmax = snapshot->xmax;
		seen->curcid = snapshot->curcid;
		seen->xcnt = snapshot->xcnt;
		seen->subxcnt = snapshot->subxcnt;
	}
}

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
static TimestampTz accepted_at = 0; /* statement that last accepted them, */
static uint64 accepted_number = 0;	/* ... by tenancy_rights_now and number */
/* read in parallel mode, under the statement's snapshot: again after it */
static bool resync_after_statement = false;
/* an invalidation no entry explained yet, in parallel mode: look again */
static bool unexplained_pending = false;
/* loaded in parallel mode, under the statement's snapshot: gone after it */
static bool flush_after_statement = false;
/* the writer of the last entry applied: may a snapshot not see it yet? */
static TransactionId applied_xmin = InvalidTransactionId;
/* the latest subtransaction of this transaction that changed rights */
static SubTransactionId written_subid = InvalidSubTransactionId;
/* last_audit_id before the first entry of this transaction's own, or -1 */
static int64 audit_id_before_own = -1;
/* a look at the log began and has not ended (an error): look again */
static bool reading_changes = false;

/*
 * The changes applied last, oldest first in a ring: what a snapshot older
 * than the cache does not see (check_snapshot).  recent_seq numbers them
 * (the newest is recent_seq - 1, the ring holds the last RECENT_CHANGES);
 * replay_from is the first that a statement's snapshot did not see, to be
 * forgotten again after it (-1: none).
 */
#define RECENT_CHANGES 1024
typedef struct TenancyRecentChange
{
	TransactionId xid;			/* the writer */
	CommandId	cid;			/* its command, for this transaction's own */
	bool		everything;		/* an entry without compartment */
	char		object_kind;	/* 'a'dministration, 'u'ser or '\0' */
	int64		compartment_id;
	int64		object_id;
} TenancyRecentChange;
static TenancyRecentChange recent_changes[RECENT_CHANGES];
static int64 recent_seq = 0;
static int64 replay_from = -1;
static int64 replica_version = -1;	/* Citus worker: the replicas' version the cache is of */


/*
 * Whether the catalog holds any delegation, any migration: -1 unknown, else
 * 0 or 1; read once after each change (read_changes), so that a probe for
 * a new user skips what cannot give it a right
 */
static int	any_delegation = -1;
static int	any_migration = -1;

/* the reporting binding of the session user, if any (R14, R15) */
static bool binding_valid = false;
static Oid	binding_role = InvalidOid;
static int64 binding_compartment = 0;	/* 0: the session user is not bound */

static void visibility_relcache_callback(Datum arg, Oid relid);
static void visibility_xact_callback(XactEvent event, void *arg);
static void visibility_subxact_callback(SubXactEvent event, SubTransactionId subid,
										SubTransactionId parent, void *arg);
static void bump_generation(void);
static HTAB *create_hash(const char *name, Size entrysize, long nelem);
static void create_cache(void);
static void flush_cache(void);
static void synchronize(void);
static void read_changes(bool invalidated);
static void forget_compartment(int64 compartment_id);
static void forget_identity(TenancyIdentityRights *identity);
static void forget_object(const char *object_type, const char *object_id);
static void forget_size(TenancyCompartmentSize *size);
static TenancyCompartmentMembers *members_of(int64 compartment_id);
static void forget_facts(TenancyAdministrationFacts *facts);
static void enforce_limit(void);
static void note_snapshot(void);
static void remember_change(TransactionId xid, CommandId cid, bool everything,
							int64 compartment_id, const char *object_type,
							const char *object_id);
static bool change_unseen(const TenancyRecentChange *change, Snapshot snapshot);
static void forget_changes_from(int64 seq);
static void check_snapshot(void);
static TenancyAdministrationFacts *remember_facts(int64 id, int64 compartment_id,
												  int64 client_id, char state);
static TenancyAdministrationFacts *facts_of(int64 administration_id);
static void add_entry(TenancyIdentityRights *identity, int64 id, int rights);
static int	entry_index(TenancyIdentityRights *identity, int64 id);
static void reset_entries(TenancyIdentityRights *identity);
static int	masked(TenancyAdministrationFacts *facts, int mask);
static void set_binding(Oid role, int64 compartment_id);
static void load_binding(Oid role);
static void load_user_header(TenancyIdentityRights *identity);
static void load_complete(TenancyIdentityRights *identity);
static bool uniform_rows(const TenancyRightsRow *rows, int n);
static void add_rows(TenancyIdentityRights *identity, const TenancyRightsRow *rows,
					 int from, int n, bool facts_only);
static void reserve_entries(TenancyIdentityRights *identity, int n);
static void expand_uniform(TenancyIdentityRights *identity);
static const int64 *compartment_ids(int64 compartment_id, int *n);
static void remember_compartment_ids(int64 compartment_id,
									 const TenancyRightsRow *rows, int n);
static bool outside_listed(int64 compartment_id, int64 administration_id);
static int	uniform_rights_on(TenancyIdentityRights *identity, int64 id);
static void load_user_rights(TenancyIdentityRights *identity);
static void load_reporting_rights(TenancyIdentityRights *identity);
static bool all_active(int64 compartment_id);
static void probe_rights(TenancyIdentityRights *identity, int64 administration_id);
static TenancyIdentityRights *current_identity(void);
static TenancyIdentityRights *identity_entry(int64 key, int64 compartment_id,
											 int64 account_id);
static int	identity_rights(TenancyIdentityRights *identity, int64 administration_id,
							TenancyAdministrationFacts **facts);
static void require_complete(TenancyIdentityRights *identity);
static int	compartment_size(int64 compartment_id);
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
							"Each right of a cached identity, each cached administration and each compartment counts as one entry, each identity as "
							CppAsString2(IDENTITY_COST) ". Least recently used identities are dropped beyond it.",
							&cache_entries_limit,
							1000000, 1000, INT_MAX / 2,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(visibility_relcache_callback, (Datum) 0);
	RegisterXactCallback(visibility_xact_callback, NULL);
	RegisterSubXactCallback(visibility_subxact_callback, NULL);
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

/*
 * At the end of a transaction (committed, aborted or prepared for two-phase
 * commit: PREPARE TRANSACTION ends it as far as this backend is concerned)
 * what it loaded under its own changes or its transaction snapshot goes.
 * The first row of the next transaction takes the full path: a procedure
 * that commits runs its transactions inside one statement, and each must
 * look at invalidations and delegations' ends again (tenancy_rights_now).
 */
static void
visibility_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		fast_statement = 0;
		if (flush_at_xact_end)
		{
			flush_at_xact_end = false;
			flush_pending = true;
		}

		/*
		 * A prepared transaction's own entries commit later, with COMMIT
		 * PREPARED, and must be read then: the log is read again from
		 * before them (no other writer's entry can come between: the
		 * prepared transaction holds the audit lock).
		 */
		if (event == XACT_EVENT_PREPARE && audit_id_before_own >= 0)
			last_audit_id = audit_id_before_own;
		audit_id_before_own = -1;
		written_subid = InvalidSubTransactionId;
	}
}

/*
 * A subtransaction rolled back (ROLLBACK TO SAVEPOINT, an exception block)
 * with a change of rights made in it or in one of its children (their ids
 * are larger than its own): what the cache loaded since may rest on the
 * change, and the audit entry that would name it is gone with it, so a
 * later look at the log cannot tell; flush now.  The enclosing levels may
 * have changed rights too, and what the cache loads next rests on theirs:
 * the rollback of any of them (ids up to parent) flushes again.
 */
static void
visibility_subxact_callback(SubXactEvent event, SubTransactionId subid,
							SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB &&
		written_subid != InvalidSubTransactionId && subid <= written_subid)
	{
		flush_pending = true;
		written_subid = parent;
	}
}

/*
 * tenancy_visibility_catalog_written: this transaction changed a table that
 * decides rights (the invalidate_scope trigger, at the end of the writing
 * statement, before anything can read the change): the cache is flushed if
 * it is rolled back, by the transaction or by a subtransaction, and at the
 * transaction's end in any case (see the file header)
 */
void
tenancy_visibility_catalog_written(void)
{
	flush_at_xact_end = true;
	written_subid = Max(written_subid, GetCurrentSubTransactionId());
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
	size_hash = create_hash("tenancy compartment sizes",
							sizeof(TenancyCompartmentSize), 64);
	members_hash = create_hash("tenancy compartment members",
							   sizeof(TenancyCompartmentMembers), 64);
	dlist_init(&identity_lru);
	dlist_init(&delegated_identities);
	dlist_init(&idle_compartments);
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
	size_hash = NULL;
	members_hash = NULL;
	dlist_init(&delegated_identities);
	dlist_init(&identity_lru);
	dlist_init(&idle_compartments);
	current = NULL;
	cached_entries = 0;
	binding_valid = false;
	any_delegation = any_migration = -1;
	bump_generation();
}

/*
 * synchronize: apply what the callbacks noted, keep within the limit.
 * Runs before every answer but a fast slot's (fast_answer_holds, which
 * tests the same flags); costs a timestamp and two flag tests when nothing
 * happened.
 */
static void
synchronize(void)
{
	bool		resync = false;	/* read the log, though nothing arrived */

	/*
	 * A snapshot taken since the last look (a volatile function's query,
	 * inside one statement) may see changes committed meanwhile: their
	 * invalidations are taken in before it is answered (1.3 attack: a
	 * function's second read, after a revoke, used the rights of before).
	 */
	if (ActiveSnapshotSet() && !same_snapshot(GetActiveSnapshot(), &accepted_snapshot))
	{
		note_snapshot_seen(&accepted_snapshot);
		AcceptInvalidationMessages();
	}
	if (tenancy_rights_now() != accepted_at ||
		tenancy_statement_number != accepted_number)
	{
		accepted_at = tenancy_rights_now();
		accepted_number = tenancy_statement_number;
		if (flush_after_statement)
			flush_pending = true;
		if (replay_from >= 0)
		{
			/* what an older snapshot loaded in the last statement goes */
			forget_changes_from(replay_from);
			replay_from = -1;
		}
		resync = resync_after_statement;
		flush_after_statement = resync_after_statement = false;
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
	if (reading_changes)
	{
		/*
		 * The last look at the log failed (a lock timeout, a cancel): the
		 * invalidation that asked for it is used up, so look again as if it
		 * had just arrived (1.3 review: a revoke was lost for good).
		 */
		reading_changes = false;
		sync_pending = true;
	}
	if (flush_pending)
	{
		flush_pending = false;
		flush_cache();
		tenancy_probe_forget();
		resync = true;			/* find where the log stands */
	}
	if (sync_pending || resync)
	{
		Oid			relid = tenancy_catalog_relid("permission");
		bool		invalidated = sync_pending;

		sync_pending = false;
		reading_changes = true;
		if (relid != watched_relid)
		{
			/* the extension was (re)created: another catalog, another log */
			flush_cache();
			tenancy_probe_forget();
			last_audit_id = -1;
			watched_relid = relid;
		}
		read_changes(invalidated);
		reading_changes = false;
	}
	check_snapshot();
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
		CommandId	cid;
		int64		compartment_id = 0;
		int64		entry_id;

		tenancy_catalog_get_int64(i, 0, &entry_id);
		xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 3, &isnull));
		if (TransactionIdIsCurrentTransactionId(xmin))
		{
			flush_at_xact_end = true;	/* our own, maybe rolled back */
			if (audit_id_before_own < 0)
				audit_id_before_own = last_audit_id;
		}
		cid = DatumGetCommandId(SPI_getbinval(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 6, &isnull));
		applied_xmin = xmin;
		if (!tenancy_catalog_get_int64(i, 1, &compartment_id))
			*flush = true;
		else
			forget_compartment(compartment_id);
		forget_object(tenancy_catalog_get_text(i, 3), tenancy_catalog_get_text(i, 4));
		remember_change(xmin, cid, *flush, compartment_id,
						tenancy_catalog_get_text(i, 3), tenancy_catalog_get_text(i, 4));
		/* seen only once forgotten: an error above reads the entry again */
		last_audit_id = entry_id;
	}
}

/*
 * read_changes: forget what the audit entries appended since the last
 * look concern (see the file header); invalidated: an invalidation asked
 * for the look, and no entry at all means a change the log does not
 * explain
 */
static void
read_changes(bool invalidated)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		flush = false;
	bool		read_since = true;	/* read the entries after last_audit_id */
	int			n;

	if (!OidIsValid(tenancy_catalog_relid("audit_entry")))
	{
		flush_cache();			/* no catalog (dropped, or not created yet) */
		last_audit_id = -1;
		return;
	}

	if (last_audit_id < 0)
	{
		static SPIPlanPtr end_plan = NULL;
		static SPIPlanPtr seen_end_plan = NULL;
		int64		end[3] = {0, 0, 0};	/* the last entry: id, writer, command */

		/*
		 * The first look: whatever is cached predates the log's end.  When
		 * the statement's snapshot does not see the last entry, its end is
		 * taken as that snapshot sees it, and what committed after it is
		 * read right below as changes, into the ring of recent changes, so
		 * that the statement's loads under its snapshot are forgotten after
		 * it (1.3 review: a revoke committed between the statement's
		 * snapshot and this look was counted as seen and never applied).
		 */
		tenancy_catalog_query(&end_plan,
							  "SELECT e.id, e.xmin::text::bigint, e.cmin::text::bigint"
							  "  FROM tenancy.audit_entry e ORDER BY e.id DESC LIMIT 1",
							  0, NULL, NULL, NULL, end, 3, NULL, 0);
		last_audit_id = end[0];
		if (identity_hash != NULL && hash_get_num_entries(identity_hash) > 0)
			flush_cache();

		/*
		 * What the cache loads from now on holds every change up to here,
		 * and the ring knows none of them: a snapshot older than the last
		 * one (a cursor declared before this look) is answered from an
		 * empty cache, and its loads are forgotten after it, as for a
		 * change without compartment (1.3 review: such a cursor's loads
		 * stayed, and the revoke before the look was lost for good)
		 */
		if (end[0] != 0)
			remember_change((TransactionId) end[1], (CommandId) end[2], true, 0,
							NULL, NULL);
		read_since = end[0] != 0 && ActiveSnapshotSet() &&
			!TransactionIdIsCurrentTransactionId((TransactionId) end[1]) &&
			XidInMVCCSnapshot((TransactionId) end[1], GetActiveSnapshot());
		if (read_since)
			tenancy_catalog_query_statement(&seen_end_plan,
											"SELECT coalesce(max(e.id), 0) FROM tenancy.audit_entry e",
											0, NULL, NULL, NULL, &last_audit_id, 1, NULL, 0);
		invalidated = false;	/* no entry after it is no mystery */
	}
	if (read_since)
	{
		/*
		 * Under a snapshot taken now: the invalidation is used up, and an
		 * older snapshot (REPEATABLE READ's, the statement's in parallel
		 * mode) may not see the entry behind it, which would then never be
		 * read.  Parallel mode can take none: what it reads is read again
		 * after the statement.
		 */
		values[0] = Int64GetDatum(last_audit_id);
		n = tenancy_catalog_read_latest(&plan,
										"SELECT e.id, e.compartment_id, e.xmin,"
										"       e.object_type, e.object_id, e.cmin"
										"  FROM tenancy.audit_entry e"
										" WHERE e.id > $1 ORDER BY e.id",
										1, argtypes, values, apply_changes, &flush);
		if (n > 0)
			unexplained_pending = false;
		else if (invalidated || unexplained_pending)
		{
			/*
			 * An invalidation no entry explains.  Under a parallel
			 * statement's snapshot the entry may just be too new: the look
			 * after the statement decides.
			 */
			if (IsInParallelMode() && !unexplained_pending)
				unexplained_pending = true;
			else
			{
				unexplained_pending = false;
				flush = true;
			}
		}
		if (IsInParallelMode())
			resync_after_statement = true;
	}

	binding_valid = false;
	any_delegation = any_migration = -1;
	if (flush)
		flush_cache();
}

/*
 * forget the identities and facts of one compartment (see the header), by
 * its member lists: the cost of a change is what it changes, not the size
 * of the cache
 */
static void
forget_compartment(int64 compartment_id)
{
	TenancyCompartmentMembers *members;
	TenancyCompartmentMembers *absent;
	int64		absent_id = 0;	/* administrations that do not exist */
	dlist_mutable_iter iter;

	stat_compartments_forgotten++;
	if (members_hash == NULL)
		return;
	members = hash_search(members_hash, &compartment_id, HASH_FIND, NULL);
	if (members != NULL)
	{
		dlist_foreach_modify(iter, &members->identities)
			forget_identity(dlist_container(TenancyIdentityRights, member, iter.cur));
		dlist_foreach_modify(iter, &members->facts)
			forget_facts(dlist_container(TenancyAdministrationFacts, member, iter.cur));
		if (members->idle_listed)
			dlist_delete(&members->idle);
		hash_search(members_hash, &compartment_id, HASH_REMOVE, NULL);
		cached_entries--;
	}
	/* rights that depend on another compartment */
	dlist_foreach_modify(iter, &delegated_identities)
		forget_identity(dlist_container(TenancyIdentityRights, delegation, iter.cur));
	absent = hash_search(members_hash, &absent_id, HASH_FIND, NULL);
	if (absent != NULL)
		dlist_foreach_modify(iter, &absent->facts)
			forget_facts(dlist_container(TenancyAdministrationFacts, member, iter.cur));
	if (size_hash != NULL)
	{
		TenancyCompartmentSize *size = hash_search(size_hash, &compartment_id,
												   HASH_FIND, NULL);

		if (size != NULL)
			forget_size(size);
	}
	bump_generation();
}

/*
 * members_of: a compartment's member lists, created empty when the cache
 * holds nothing of it.  Callers take them before they enter the member
 * itself, so that running out of memory here leaves no unlinked entry.
 */
static TenancyCompartmentMembers *
members_of(int64 compartment_id)
{
	bool		found;
	TenancyCompartmentMembers *members = hash_search(members_hash, &compartment_id,
													 HASH_ENTER, &found);

	if (!found)
	{
		dlist_init(&members->identities);
		dlist_init(&members->facts);
		members->all_active = -1;
		/* idle until its caller links a member (or fails to) */
		dlist_push_head(&idle_compartments, &members->idle);
		members->idle_listed = true;
		cached_entries++;
	}
	return members;
}

/* link an identity or facts entry into one of the compartment's lists */
static void
link_member(TenancyCompartmentMembers *members, dlist_head *list, dlist_node *node)
{
	if (members->idle_listed)
	{
		dlist_delete(&members->idle);
		members->idle_listed = false;
	}
	dlist_push_head(list, node);
}

/*
 * unlink_member: take an identity or facts entry out of its compartment's
 * list (at list_offset in TenancyCompartmentMembers); a compartment left
 * with neither becomes idle
 */
static void
unlink_member(dlist_node *node, size_t list_offset)
{
	/* the list's only entry: both its neighbours are the list's head */
	dlist_head *head = node->prev == node->next ? (dlist_head *) node->prev : NULL;

	dlist_delete(node);
	if (head != NULL)
	{
		TenancyCompartmentMembers *members =
			(TenancyCompartmentMembers *) ((char *) head - list_offset);

		if (dlist_is_empty(&members->identities) && dlist_is_empty(&members->facts) &&
			!members->idle_listed)
		{
			dlist_push_head(&idle_compartments, &members->idle);
			members->idle_listed = true;
		}
	}
}

/* drop compartments the cache holds nothing of, past the bound */
static void
forget_idle_compartments(void)
{
	while (cached_entries > cache_entries_limit && !dlist_is_empty(&idle_compartments))
	{
		TenancyCompartmentMembers *members =
			dlist_container(TenancyCompartmentMembers, idle,
							dlist_pop_head_node(&idle_compartments));

		hash_search(members_hash, &members->compartment_id, HASH_REMOVE, NULL);
		cached_entries--;
	}
}

/* drop one administration's facts */
static void
forget_facts(TenancyAdministrationFacts *facts)
{
	unlink_member(&facts->member, offsetof(TenancyCompartmentMembers, facts));
	hash_search(facts_hash, &facts->administration_id, HASH_REMOVE, NULL);
	cached_entries--;
}

/* drop a compartment's size and list */
static void
forget_size(TenancyCompartmentSize *size)
{
	cached_entries--;
	if (size->ids != NULL)
	{
		cached_entries -= size->administrations;
		pfree(size->ids);
	}
	hash_search(size_hash, &size->compartment_id, HASH_REMOVE, NULL);
}

/*
 * forget_object: an administration or a user that changed compartment is
 * dropped by id too (the entry names the new compartment only)
 */
static void
forget_object(const char *object_type, const char *object_id)
{
	int64		id;
	char	   *end;

	if (object_type == NULL || object_id == NULL)
		return;
	id = strtoi64(object_id, &end, 10);
	if (*end != '\0')
		return;
	if (strcmp(object_type, "administration") == 0 && facts_hash != NULL)
	{
		TenancyAdministrationFacts *facts = hash_search(facts_hash, &id,
														HASH_FIND, NULL);

		if (facts != NULL)
		{
			/* the compartment it left: its size and list are stale */
			TenancyCompartmentSize *size = hash_search(size_hash,
													   &facts->compartment_id,
													   HASH_FIND, NULL);

			if (size != NULL)
				forget_size(size);
			forget_facts(facts);
		}
	}
	else if (strcmp(object_type, "user") == 0 && identity_hash != NULL)
	{
		TenancyIdentityRights *identity = hash_search(identity_hash, &id,
													  HASH_FIND, NULL);

		if (identity != NULL)
			forget_identity(identity);
	}
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
	cached_entries -= identity->capacity + identity->array_entries + IDENTITY_COST;
	if (identity->delegated)
		dlist_delete(&identity->delegation);
	dlist_delete(&identity->lru);
	unlink_member(&identity->member, offsetof(TenancyCompartmentMembers, identities));
	hash_search(identity_hash, &identity->key, HASH_REMOVE, NULL);
	bump_generation();
}

/*
 * past the limit, drop the compartments the cache holds nothing of (their
 * empty member lists, and what it knew of their states), then least recently
 * used identities, then the facts (with the compartments' sizes and lists,
 * and the facts' member lists), then the compartments that left idle
 */
static void
enforce_limit(void)
{
	forget_idle_compartments();
	while (cached_entries > cache_entries_limit && !dlist_is_empty(&identity_lru))
	{
		TenancyIdentityRights *oldest = dlist_tail_element(TenancyIdentityRights, lru,
														   &identity_lru);

		if (oldest == current)
		{
			/*
			 * The identity in use stays (act_as_local seeds others after
			 * it, so it can be the least recent): the next oldest goes.
			 */
			if (dlist_head_element(TenancyIdentityRights, lru, &identity_lru) == current)
				break;			/* the only one */
			dlist_move_head(&identity_lru, &current->lru);
			continue;
		}
		forget_identity(oldest);
	}
	if (cached_entries > cache_entries_limit && facts_hash != NULL &&
		hash_get_num_entries(facts_hash) > cache_entries_limit / 2)
	{
		HASH_SEQ_STATUS seq;
		TenancyCompartmentSize *size;
		TenancyCompartmentMembers *members;

		cached_entries -= hash_get_num_entries(facts_hash);
		hash_destroy(facts_hash);
		facts_hash = create_hash("tenancy administration facts",
								 sizeof(TenancyAdministrationFacts), 1024);
		hash_seq_init(&seq, members_hash);
		while ((members = hash_seq_search(&seq)) != NULL)
		{
			dlist_init(&members->facts);
			if (dlist_is_empty(&members->identities) && !members->idle_listed)
			{
				dlist_push_head(&idle_compartments, &members->idle);
				members->idle_listed = true;
			}
		}
		hash_seq_init(&seq, size_hash);
		while ((size = hash_seq_search(&seq)) != NULL)
			forget_size(size);
		bump_generation();
	}
	forget_idle_compartments();
}

/*
 * What is loaded under a transaction snapshot lives until the transaction's
 * end; what is loaded in parallel mode, under the statement's snapshot,
 * until the statement's end if that snapshot does not see the last entry
 * the cache applied (its change is then missing from the load).
 */
static void
note_snapshot(void)
{
	if (IsolationUsesXactSnapshot())
		flush_at_xact_end = true;
	else if (IsInParallelMode() && TransactionIdIsValid(applied_xmin) &&
			 !TransactionIdIsCurrentTransactionId(applied_xmin) &&
			 XidInMVCCSnapshot(applied_xmin, GetActiveSnapshot()))
		flush_after_statement = true;	/* entries commit in id order */
}

/*
 * Snapshots older than the cache.  The cache holds what the catalog says
 * after every change it applied: its loads run under the snapshot of the
 * statement being answered (probe.c, rights.c), which sees every change
 * applied before it.  A statement can read its rows under an older
 * snapshot: a cursor declared before a change and fetched after it, a
 * REPEATABLE READ transaction, an imported snapshot, or a statement whose
 * first check comes after a change committed while it ran.  Its rows must
 * be judged by the rights of that snapshot (1.3 review: a FETCH returned
 * the rows a migration deleted when it gave the reader the right on them,
 * rows that no single moment of the catalog showed to that user).  So
 * check_snapshot(), before every answer, compares the statement's snapshot
 * with the last change applied; when it does not see it, the changes it
 * does not see are forgotten (their compartments and objects, as when they
 * were applied), what is then loaded under that snapshot serves the
 * statement, and the same changes are forgotten again after it.  Entries
 * commit in id order, so the changes a snapshot does not see are the
 * newest ones.  Past the ring's length, everything is forgotten.
 */
static void
remember_change(TransactionId xid, CommandId cid, bool everything,
				int64 compartment_id, const char *object_type, const char *object_id)
{
	TenancyRecentChange *c = &recent_changes[recent_seq % RECENT_CHANGES];
	char	   *end = NULL;

	c->xid = xid;
	c->cid = cid;
	c->everything = everything;
	c->compartment_id = compartment_id;
	c->object_kind = '\0';
	c->object_id = object_id == NULL ? 0 : strtoi64(object_id, &end, 10);
	if (object_type != NULL && end != NULL && *end == '\0')
	{
		if (strcmp(object_type, "administration") == 0)
			c->object_kind = 'a';
		else if (strcmp(object_type, "user") == 0)
			c->object_kind = 'u';
	}
	recent_seq++;
}

/*
 * change_unseen: does the snapshot not see the change?  The transaction's
 * own changes (the newest: it holds the audit lock) by their command, as
 * a cursor declared before them does not see them; others by their writer
 */
static bool
change_unseen(const TenancyRecentChange *change, Snapshot snapshot)
{
	if (TransactionIdIsCurrentTransactionId(change->xid))
		return change->cid >= snapshot->curcid;
	return XidInMVCCSnapshot(change->xid, snapshot);
}

/* forget again what the changes numbered seq and later forgot */
static void
forget_changes_from(int64 seq)
{
	char		id[MAXINT8LEN + 1];

	if (seq < recent_seq - RECENT_CHANGES)
	{
		flush_cache();			/* no longer in the ring */
		return;
	}
	for (; seq < recent_seq; seq++)
	{
		TenancyRecentChange *c = &recent_changes[seq % RECENT_CHANGES];

		if (c->everything)
		{
			flush_cache();
			return;
		}
		forget_compartment(c->compartment_id);
		if (c->object_kind != '\0')
		{
			pg_lltoa(c->object_id, id);
			forget_object(c->object_kind == 'a' ? "administration" : "user", id);
		}
	}
	binding_valid = false;
	any_delegation = any_migration = -1;
}

/*
 * check_snapshot: before an answer, under the active snapshot: when it
 * does not see the last change applied, forget the changes it does not see
 * now and after the statement (see above).  What was loaded under another
 * snapshot that did not see them (two cursors fetched in one statement)
 * goes first.
 */
static void
check_snapshot(void)
{
	Snapshot	snapshot;
	int64		seq;

	if (!ActiveSnapshotSet() || recent_seq == 0)
		return;
	snapshot = GetActiveSnapshot();
	if (replay_from >= 0)
	{
		if (same_snapshot(snapshot, &replay_snapshot))
			return;				/* the loads' own snapshot */
		forget_changes_from(replay_from);
		replay_from = -1;
	}
	if (!change_unseen(&recent_changes[(recent_seq - 1) % RECENT_CHANGES], snapshot))
		return;					/* it sees them all */
	seq = recent_seq - 1;
	while (seq > recent_seq - RECENT_CHANGES && seq > 0 &&
		   change_unseen(&recent_changes[(seq - 1) % RECENT_CHANGES], snapshot))
		seq--;
	if (seq == recent_seq - RECENT_CHANGES && seq > 0)
		seq = 0;				/* older than the ring: everything */
	forget_changes_from(seq);
	replay_from = seq;
	note_snapshot_seen(&replay_snapshot);
}

static TenancyAdministrationFacts *
remember_facts(int64 id, int64 compartment_id, int64 client_id, char state)
{
	TenancyAdministrationFacts *facts = hash_search(facts_hash, &id, HASH_FIND, NULL);

	if (facts == NULL || facts->compartment_id != compartment_id)
	{
		/* the list first: running out of memory leaves no unlinked entry */
		TenancyCompartmentMembers *members = members_of(compartment_id);

		if (facts == NULL)
		{
			facts = hash_search(facts_hash, &id, HASH_ENTER, NULL);
			cached_entries++;
		}
		else
			unlink_member(&facts->member, offsetof(TenancyCompartmentMembers, facts));
		link_member(members, &members->facts, &facts->member);
		facts->compartment_id = compartment_id;
	}
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
 * remember_compartment_ids: the compartment's list of ids, from the rows of
 * a complete load that holds every administration of it (a uniform
 * identity's, in ascending id order)
 */
static void
remember_compartment_ids(int64 compartment_id, const TenancyRightsRow *rows, int n)
{
	TenancyCompartmentSize *size = hash_search(size_hash, &compartment_id,
											   HASH_FIND, NULL);
	int			i;

	if (size == NULL || size->ids != NULL || size->administrations != n)
		return;
	size->ids = MemoryContextAlloc(cache_context, sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		/* rights.c returns them in ascending id order; bisection needs it */
		Assert(i == 0 || rows[i - 1].administration_id < rows[i].administration_id);
		size->ids[i] = rows[i].administration_id;
	}
	cached_entries += n;
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

/* position of id in n ascending ids, or -1 */
static int
id_position(const int64 *ids, int n, int64 id)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* the position where id belongs among n ascending ids (none equal to it) */
static int
id_insert_position(const int64 *ids, int n, int64 id)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* position of id in the identity's sorted entries, or -1 */
static int
entry_index(TenancyIdentityRights *identity, int64 id)
{
	return id_position(identity->ids, identity->nentries, id);
}

/*
 * outside_listed: does the compartment's list of ids, when the cache holds
 * it, show that the administration lies outside the compartment?
 */
static bool
outside_listed(int64 compartment_id, int64 administration_id)
{
	TenancyCompartmentSize *size = hash_search(size_hash, &compartment_id,
											   HASH_FIND, NULL);

	return size != NULL && size->ids != NULL &&
		id_position(size->ids, size->administrations, administration_id) < 0;
}

/*
 * resize_entries: room for capacity entries.  Both arrays are allocated
 * before either is stored: an error (out of memory) between the two must
 * not leave an identity whose ids exist without their rights, which the
 * next resize would repalloc() as NULL.  repalloc() keeps its argument
 * valid when it fails.
 */
static void
resize_entries(TenancyIdentityRights *identity, int capacity)
{
	int64	   *ids;
	uint8	   *rights;

	if (identity->ids == NULL)
	{
		ids = MemoryContextAlloc(cache_context, sizeof(int64) * capacity);
		rights = MemoryContextAlloc(cache_context, capacity);
	}
	else
	{
		rights = repalloc(identity->rights, capacity);
		identity->rights = rights;
		ids = repalloc(identity->ids, sizeof(int64) * capacity);
	}
	identity->ids = ids;
	identity->rights = rights;
	cached_entries += capacity - identity->capacity;
	identity->capacity = capacity;
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

		resize_entries(identity, identity->capacity + grow);
	}
	/*
	 * A partial identity's probes arrive in any order: find the place by
	 * bisection and move the tail at once (a complete load appends in
	 * ascending order, where the tail is empty).
	 */
	pos = id_insert_position(identity->ids, identity->nentries, id);
	memmove(&identity->ids[pos + 1], &identity->ids[pos],
			sizeof(int64) * (identity->nentries - pos));
	memmove(&identity->rights[pos + 1], &identity->rights[pos],
			identity->nentries - pos);
	identity->ids[pos] = id;
	identity->rights[pos] = rights;
	identity->nentries++;
	if ((rights & RIGHT_DELEGATED) && !identity->delegated)
	{
		identity->delegated = true;
		dlist_push_head(&delegated_identities, &identity->delegation);
	}
}

static void
reset_entries(TenancyIdentityRights *identity)
{
	int			i;

	identity->nentries = 0;
	identity->complete = false;
	if (identity->delegated)
		dlist_delete(&identity->delegation);
	identity->delegated = false;
	identity->uniform_mask = 0;
	identity->expire_at = 0;
	cached_entries -= identity->array_entries;
	identity->array_entries = 0;
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
 * set_binding: what the cache now knows of a login's binding.  A change
 * makes every fast slot stale: a slot filled for a bound login must not
 * answer once the binding is gone (fast_answer_holds looks only at the
 * session user).
 */
static void
set_binding(Oid role, int64 compartment_id)
{
	if (binding_role != role || binding_compartment != compartment_id)
		bump_generation();
	binding_role = role;
	binding_compartment = compartment_id;
	binding_valid = true;
}

/*
 * load_binding: the compartment a reporting login is bound to, or 0
 */
static void
load_binding(Oid role)
{
	note_snapshot();
	set_binding(role, tenancy_rights_binding(role));
}

/* is the user enabled, in the identity's compartment (R2)? */
static void
load_user_header(TenancyIdentityRights *identity)
{
	note_snapshot();
	identity->sees_nothing = !tenancy_rights_user_active(identity->key,
														 identity->compartment_id,
														 identity->account_id);
	identity->header_known = true;
}

/* a flag of the catalog (see any_delegation), read when unknown */
static bool
catalog_has(int *known, bool (*probe) (void))
{
	if (*known < 0)
	{
		note_snapshot();
		*known = probe() ? 1 : 0;
	}
	return *known == 1;
}

/*
 * all_active: is every administration of the compartment active, by a
 * probe of the catalog's index of the others?  Kept with the compartment's
 * member lists, so that a change of the compartment (an administration
 * archived, deleted, or brought in archived by a transfer: its audit entry
 * names the compartment) forgets it with them.  Where the catalog cannot
 * tell by a probe, false: the caller reads the administration's facts.
 */
static bool
all_active(int64 compartment_id)
{
	TenancyCompartmentMembers *members = members_of(compartment_id);

	if (members->all_active < 0)
	{
		note_snapshot();
		members->all_active = tenancy_probe_all_active(compartment_id) == 1 ? 1 : 0;
	}
	return members->all_active == 1;
}

/*
 * probe_rights: what a user may do on one administration, as rights.c
 * derives it from the sources (permission, archive rule, delegations) and
 * the administration's facts (cached here): index probes, no list.  The
 * archive and delegation probes are skipped while the catalog holds no
 * migration or no delegation at all (any_migration, any_delegation).
 *
 * The permission is read first: its row names the administration's
 * compartment (a foreign key keeps it so), and in a compartment whose
 * administrations are all active (all_active, one probe per compartment)
 * the state is known too, so that the administration's own row is not
 * read.  A pooled server's new user on an administration the backend has
 * not met then costs two probes (the user, the permission) instead of
 * three.  Otherwise, and for an administration without a permission of
 * the user, the facts are read as before.  The permission's compartment
 * counts only where it is the identity's own: the wall (R6) is then
 * rights.c's check of the same compartment ids.  That the permission
 * names its administration's compartment rests on the catalog's trigger
 * and foreign key; a row written with them off (session_replication_role
 * = replica) is what tenancy.check() reports.
 */
static void
probe_rights(TenancyIdentityRights *identity, int64 administration_id)
{
	TenancyRightsSources src;
	int64		admin_compartment;
	char		state;
	int64		held_in;
	int			permission;
	int			rights;

	if (!identity->header_known)
		load_user_header(identity);
	identity->nprobes++;
	stat_probes++;
	if (identity->sees_nothing)
		return;
	note_snapshot();
	permission = tenancy_rights_permission(identity->key, administration_id, &held_in);
	if (permission != 0 && held_in != 0 && held_in == identity->compartment_id &&
		all_active(held_in))
	{
		admin_compartment = held_in;
		state = tenancy_rights_state_code("active");
	}
	else
	{
		TenancyAdministrationFacts *facts = facts_of(administration_id);

		admin_compartment = facts->compartment_id;
		state = facts->state;
	}
	tenancy_rights_sources(identity->key, identity->compartment_id,
						   administration_id, admin_compartment,
						   tenancy_rights_now(),
						   catalog_has(&any_migration, tenancy_probe_any_migration),
						   catalog_has(&any_delegation, tenancy_probe_any_delegation),
						   permission, &src);
	if (src.delegated != 0)
		note_expiry(identity, src.delegated_until);
	rights = tenancy_rights_effective(true, identity->compartment_id,
									  admin_compartment, state, &src);
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
	resize_entries(identity, need);
}

/* the ids of a compartment's administrations, as compartment_ids lists them */
typedef struct TenancyCompartmentList
{
	int64	   *ids;
	int			n;
} TenancyCompartmentList;

/* compartment_ids' reader: the ids, and the facts of each administration */
static void
list_compartment(int n, void *arg)
{
	TenancyCompartmentList *list = (TenancyCompartmentList *) arg;
	int			i;

	list->ids = MemoryContextAlloc(cache_context, sizeof(int64) * Max(n, 1));
	list->n = n;
	for (i = 0; i < n; i++)
	{
		int64		compartment_id = 0;
		int64		client_id = 0;
		char	   *state = tenancy_catalog_get_text(i, 3);

		list->ids[i] = 0;
		tenancy_catalog_get_int64(i, 0, &list->ids[i]);
		tenancy_catalog_get_int64(i, 1, &compartment_id);
		tenancy_catalog_get_int64(i, 2, &client_id);
		(void) remember_facts(list->ids[i], compartment_id, client_id,
							  tenancy_rights_state_code(state));
	}
}

/*
 * expand_uniform: turn a uniform identity into entries, one per
 * administration of its compartment, for the callers that need the list
 */
static void
expand_uniform(TenancyIdentityRights *identity)
{
	int			mask = identity->uniform_mask;
	int			n;
	int			i;
	const int64 *ids;

	if (mask == 0)
		return;
	ids = compartment_ids(identity->compartment_id, &n);
	reserve_entries(identity, n);
	for (i = 0; i < n; i++)
	{
		int			rights = uniform_rights_on(identity, ids[i]);

		if (rights != 0)
			add_entry(identity, ids[i], rights);
	}
	identity->uniform_mask = 0;
}

/*
 * uniform_rights_on: a uniform identity's mask on a listed administration,
 * masked by its state; 0 if it has left the compartment since it was
 * listed (the audit entry of a move names the new compartment only)
 */
static int
uniform_rights_on(TenancyIdentityRights *identity, int64 id)
{
	TenancyAdministrationFacts *facts = facts_of(id);

	if (facts->compartment_id != identity->compartment_id)
		return 0;
	return masked(facts, identity->uniform_mask);
}

/*
 * compartment_ids: the ascending ids of the compartment's administrations,
 * listed once (their facts with them) and kept with its size
 */
static const int64 *
compartment_ids(int64 compartment_id, int *n)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	TenancyCompartmentSize *size;
	TenancyCompartmentList list;
	bool		found;

	size = hash_search(size_hash, &compartment_id, HASH_FIND, NULL);
	if (size != NULL && size->ids != NULL)
	{
		*n = size->administrations;
		return size->ids;
	}
	values[0] = Int64GetDatum(compartment_id);
	list.ids = NULL;
	list.n = 0;
	note_snapshot();
	tenancy_rights_read(&plan,
						"SELECT a.id, a.compartment_id, a.client_id, a.state"
						"  FROM tenancy.administration a WHERE a.compartment_id = $1"
						" ORDER BY a.id",
						1, argtypes, values, list_compartment, &list);
	if (list.ids == NULL)
		list.ids = MemoryContextAlloc(cache_context, sizeof(int64));

	size = hash_search(size_hash, &compartment_id, HASH_ENTER, &found);
	if (found)
	{
		cached_entries -= size->ids != NULL ? size->administrations : 0;
		if (size->ids != NULL)
			pfree(size->ids);
	}
	else
		cached_entries++;
	size->administrations = list.n;
	size->ids = list.ids;
	cached_entries += list.n;
	*n = list.n;
	return list.ids;
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
		remember_compartment_ids(identity->compartment_id, rows, npermissions);
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
 * fast_answer_holds: would current_identity() return, untouched, the entry
 * the fast slots were filled for?  Yes while the statement is the one of
 * the last full answer (synchronize() reads invalidations once a
 * statement, and a delegation's end is compared with tenancy_rights_now,
 * which only a new statement or transaction moves; a transaction's end
 * clears fast_statement), no identity was installed since, the session
 * user is the same (a reporting login's binding is the session user's, an
 * act-as identity holds only for the session user that set it) and no
 * invalidation callback has fired.  Anything else
 * current_identity() and synchronize() may change bumps fast_generation.
 * About 20 instructions a row instead of 50.
 */
static inline bool
fast_answer_holds(void)
{
	return fast_installs == tenancy_identity_installs &&
		!flush_pending && !sync_pending && !reading_changes &&
		fast_statement == GetCurrentStatementStartTimestamp() &&
		fast_number == tenancy_statement_number &&
		fast_login == GetSessionUserId() &&
		ActiveSnapshotSet() && same_snapshot(GetActiveSnapshot(), &accepted_snapshot);
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
	int64		account_id = 0;
	TenancyIdentityRights *identity;

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
		account_id = ident->account_id;
	}

	if (current != NULL && current->key == key &&
		current->compartment_id == compartment_id &&
		current->account_id == account_id &&
		(current->expire_at == 0 ||
		 tenancy_rights_now() < current->expire_at))
		return current;

	identity = identity_entry(key, compartment_id, account_id);
	if (key < 0 && !identity->header_known)
		load_complete(identity);	/* a reporting login reads lists */
	current = identity;
	bump_generation();
	return identity;
}

/*
 * identity_entry: the cache entry of an identity in a compartment (of a
 * user of the account, 0 for a reporting login), created (not loaded) when
 * new, and made the most recently used.  The account is the person the
 * act-as identity was set for: a user id given to another person (the
 * catalog made anew) is not that user.
 */
static TenancyIdentityRights *
identity_entry(int64 key, int64 compartment_id, int64 account_id)
{
	TenancyIdentityRights *identity;

	identity = hash_search(identity_hash, &key, HASH_FIND, NULL);
	if (identity != NULL &&
		(identity->compartment_id != compartment_id ||
		 identity->account_id != account_id ||
		 (identity->expire_at != 0 &&
		  tenancy_rights_now() >= identity->expire_at)))
	{
		/* moved, another person's, or a delegation has ended */
		forget_identity(identity);
		identity = NULL;
	}
	if (identity == NULL)
	{
		TenancyCompartmentMembers *members = members_of(compartment_id);

		identity = hash_search(identity_hash, &key, HASH_ENTER, NULL);
		memset(((char *) identity) + sizeof(int64), 0,
			   sizeof(TenancyIdentityRights) - sizeof(int64));
		identity->compartment_id = compartment_id;
		identity->account_id = account_id;
		identity->scope_count = -1;
		memset(identity->right_counts, -1, sizeof(identity->right_counts));
		dlist_push_head(&identity_lru, &identity->lru);
		link_member(members, &members->identities, &identity->member);
		cached_entries += IDENTITY_COST;
	}
	else
		dlist_move_head(&identity_lru, &identity->lru);
	return identity;
}

/*
 * tenancy_visibility_user: what act_as_local needs of a user: false when it
 * does not exist, else its compartment, account and disabled flag; and in
 * *bound whether the login is bound as a reporting login (R14).
 *
 * An enabled user the cache holds, asked for by an unbound login the cache
 * knows, costs no query: the cache drops a user's entry when the audit log
 * shows a change in its compartment or of the user itself, and forgets the
 * login's binding at every change (read_changes), all before the first
 * answer of the statement.  Otherwise the user's row and the binding are
 * probed (probe.c), and an enabled user seeds the cache, so that the first
 * check after act_as_local does not read the user again.
 */
bool
tenancy_visibility_user(int64 user_id, Oid login, int64 *compartment_id,
						int64 *account_id, bool *disabled, bool *bound)
{
	TenancyIdentityRights *identity;
	bool		found;

	synchronize();
	if (binding_valid && binding_role == login && binding_compartment == 0)
	{
		identity = hash_search(identity_hash, &user_id, HASH_FIND, NULL);
		if (identity != NULL && identity->account_id != 0 &&
			identity->header_known && !identity->sees_nothing &&
			(identity->expire_at == 0 ||
			 tenancy_rights_now() < identity->expire_at))
		{
			*compartment_id = identity->compartment_id;
			*account_id = identity->account_id;
			*disabled = false;
			*bound = false;
			return true;
		}
	}

	note_snapshot();
	if (binding_valid && binding_role == login && binding_compartment == 0)
	{
		/* the binding is known: the user's row alone */
		*bound = false;
		found = tenancy_probe_identity(user_id, login, compartment_id, account_id,
									   disabled, NULL);
	}
	else
		found = tenancy_probe_identity(user_id, login, compartment_id, account_id,
									   disabled, bound);
	if (*bound)
		return found;
	set_binding(login, 0);
	if (found && !*disabled && *account_id != 0)
	{
		identity = identity_entry(user_id, *compartment_id, *account_id);
		identity->header_known = true;
		identity->sees_nothing = false;
	}
	return found;
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
		if (identity->nprobes >= PROBES_BEFORE_COMPLETE &&
			identity->nprobes >=
			count_with_right(identity, TENANCY_IN_SCOPE) / PROBE_COST_IN_RIGHTS)
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

	/*
	 * A uniform identity reading a table of many firms asks about their
	 * administrations too: its compartment's list answers "outside" without
	 * a probe of each (their facts are not needed for that).
	 */
	f = hash_search(facts_hash, &administration_id, HASH_FIND, NULL);
	if (f == NULL)
	{
		if (facts == NULL && identity->uniform_mask != 0 &&
			outside_listed(identity->compartment_id, administration_id))
			return rights;
		f = facts_of(administration_id);
	}
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
 * rights_filling_slot: the full answer of tenancy_visibility_rights, which
 * leaves it in the administration's fast slot and notes what it was given
 * under (fast_answer_holds).  Out of line: the fast path stays small enough
 * to inline into the policies' functions.
 */
static pg_noinline int
rights_filling_slot(TenancyFastSlot *slot, int64 administration_id)
{
	TenancyIdentityRights *identity = current_identity();

	if (identity == NULL)
		return 0;
	if (slot->generation != fast_generation ||
		slot->administration_id != administration_id)
	{
		slot->rights = identity_rights(identity, administration_id, NULL);
		slot->administration_id = administration_id;
		slot->generation = fast_generation;
	}
	fast_statement = GetCurrentStatementStartTimestamp();
	fast_number = tenancy_statement_number;
	fast_installs = tenancy_identity_installs;
	fast_login = GetSessionUserId();
	return slot->rights;
}

/* the fast slot's answer when it holds, else the full one */
static inline int
visibility_rights(int64 administration_id)
{
	TenancyFastSlot *slot = &fast_slots[(uint64) administration_id % FAST_SLOTS];

	if (likely(slot->generation == fast_generation &&
			   slot->administration_id == administration_id &&
			   fast_answer_holds()))
		return slot->rights;
	return rights_filling_slot(slot, administration_id);
}

/*
 * tenancy_visibility_rights: rights mask of the current identity on one
 * administration (0 outside its wall).  The policies' hot path.
 */
int
tenancy_visibility_rights(int64 administration_id)
{
	return visibility_rights(administration_id);
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

/* how many administrations the compartment has (cached per compartment) */
static int
compartment_size(int64 compartment_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		count = 0;
	bool		found;
	TenancyCompartmentSize *size = hash_search(size_hash, &compartment_id,
											   HASH_FIND, NULL);

	if (size != NULL)
		return size->administrations;
	values[0] = Int64GetDatum(compartment_id);
	note_snapshot();
	tenancy_rights_query(&plan,
						 "SELECT count(*) FROM tenancy.administration a"
						 " WHERE a.compartment_id = $1",
						 1, argtypes, values, &count, 1);
	size = hash_search(size_hash, &compartment_id, HASH_ENTER, &found);
	if (!found)
	{
		cached_entries++;
		size->ids = NULL;
	}
	size->administrations = (int) Min(count, INT_MAX);
	return size->administrations;
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
			identity->scope_count = compartment_size(identity->compartment_id);
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

/*
 * ascending ids of the administrations the identity has the right on: its
 * entries and, for a uniform identity, the administrations of its
 * compartment whose state leaves the right (not expanded into entries: a
 * firm's fifty staff would hold a million entries)
 */
static ArrayType *
build_right_array(TenancyIdentityRights *identity, int bit)
{
	Datum	   *elems;
	int			n = 0;
	int			i = 0;
	int			j = 0;
	int			nlisted = 0;
	const int64 *listed = NULL;
	MemoryContext old;
	ArrayType  *result;

	if (identity->uniform_mask != 0 && !identity->sees_nothing)
		listed = compartment_ids(identity->compartment_id, &nlisted);
	elems = palloc(sizeof(Datum) * Max(identity->nentries + nlisted, 1));
	/* both lists are sorted: merge them */
	while (!identity->sees_nothing && (i < identity->nentries || j < nlisted))
	{
		int64		id;
		int			rights = 0;

		if (j >= nlisted || (i < identity->nentries && identity->ids[i] <= listed[j]))
			id = identity->ids[i];
		else
			id = listed[j];
		if (i < identity->nentries && identity->ids[i] == id)
			rights |= identity->rights[i++];
		if (j < nlisted && listed[j] == id)
		{
			rights |= uniform_rights_on(identity, id);
			j++;
		}
		if (rights & bit)
			elems[n++] = Int64GetDatum(id);
	}
	old = MemoryContextSwitchTo(cache_context);
	result = construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
	/* counted once it exists: an error above must not skew the bound */
	identity->array_entries += n;
	cached_entries += n;
	pfree(elems);
	return result;
}

/* the last spelling of a rights argument parsed at a call site, and its bit */
typedef struct ParsedRight
{
	int			bit;
	int			len;			/* -1: none */
	char		name[NAMEDATALEN];
} ParsedRight;

/*
 * parse_right_arg: the rights argument of a SQL function, as one bit; NULL
 * is refused.  The last spelling parsed is kept in fn_extra with its bit,
 * so that can() in a filter and visible_administration() rechecked on a row
 * cost no palloc a row; it is used again only for the same spelling, since
 * a stable argument is not a constant one (a PL/pgSQL variable is a Param
 * whose value changes between calls of the same expression).
 */
static int
parse_right_arg(FunctionCallInfo fcinfo, int argno)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	ParsedRight *parsed;
	text	   *arg;
	int			len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("rights must not be null"),
				 errhint("Rights are read, write, submit and manage.")));
	arg = PG_GETARG_TEXT_PP(argno);
	len = VARSIZE_ANY_EXHDR(arg);
	parsed = flinfo != NULL ? (ParsedRight *) flinfo->fn_extra : NULL;
	if (parsed != NULL && parsed->len == len &&
		memcmp(parsed->name, VARDATA_ANY(arg), len) == 0)
		return parsed->bit;
	if (flinfo == NULL || len >= NAMEDATALEN)
		return tenancy_rights_parse_one(text_to_cstring(arg));
	if (parsed == NULL)
		flinfo->fn_extra = parsed = MemoryContextAllocZero(flinfo->fn_mcxt,
														  sizeof(ParsedRight));
	parsed->len = -1;			/* an error below leaves no half entry */
	parsed->bit = tenancy_rights_parse_one(text_to_cstring(arg));
	memcpy(parsed->name, VARDATA_ANY(arg), len);
	parsed->len = len;
	return parsed->bit;
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
	PG_RETURN_BOOL((visibility_rights(PG_GETARG_INT64(0)) & bit) != 0);
}

/*
 * visible_administration(administration_id bigint, rights text) RETURNS
 * bigint: the id when the identity holds the right on the administration,
 * NULL otherwise; the index condition "col = visible_administration(x, r)"
 * the planner hook gives a query that names one administration (planner.c)
 */
PG_FUNCTION_INFO_V1(tenancy_visible_administration);
Datum
tenancy_visible_administration(PG_FUNCTION_ARGS)
{
	int			bit = parse_right_arg(fcinfo, 1);

	if (PG_ARGISNULL(0) || (visibility_rights(PG_GETARG_INT64(0)) & bit) == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(PG_GETARG_INT64(0));
}

/* row_in_scope(administration_id bigint) RETURNS boolean: the wall */
PG_FUNCTION_INFO_V1(tenancy_row_in_scope);
Datum
tenancy_row_in_scope(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((visibility_rights(PG_GETARG_INT64(0)) & TENANCY_IN_SCOPE) != 0);
}

/* row_readable(administration_id bigint) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_row_readable);
Datum
tenancy_row_readable(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((visibility_rights(PG_GETARG_INT64(0)) & TENANCY_RIGHT_READ) != 0);
}

/* row_writable(administration_id bigint) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_row_writable);
Datum
tenancy_row_writable(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((visibility_rights(PG_GETARG_INT64(0)) & TENANCY_RIGHT_WRITE) != 0);
}

/* my_rights() RETURNS TABLE (administration_id bigint, rights text[]) */
PG_FUNCTION_INFO_V1(tenancy_my_rights);
Datum
tenancy_my_rights(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TenancyIdentityRights *identity;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
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
 * administrations, probes, complete_loads, compartments_forgotten, flushes,
 * compartments): this backend's visibility cache, for operators
 */
PG_FUNCTION_INFO_V1(tenancy_cache_statistics);
Datum
tenancy_cache_statistics(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9] = {false};
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
	values[8] = Int64GetDatum(members_hash != NULL ? hash_get_num_entries(members_hash) : 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
