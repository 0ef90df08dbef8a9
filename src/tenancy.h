/*-------------------------------------------------------------------------
 *
 * tenancy.h
 *	  The one internal header of the tenancy extension.
 *
 * Externs are grouped under the name of the file that defines them.  The
 * map from situations to SQLSTATEs lives here too, so that every module
 * refuses the same situation with the same code (see STYLE.md, "Errors").
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANCY_H
#define TENANCY_H

#include "postgres.h"

#include "common/sha2.h"
#include "compat.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/array.h"

/*
 * SQLSTATE map.  Every refusal a user can cause uses one of these.
 */
#define TENANCY_ERRCODE_DENIED			ERRCODE_INSUFFICIENT_PRIVILEGE	/* 42501 */
#define TENANCY_ERRCODE_UNKNOWN			ERRCODE_UNDEFINED_OBJECT	/* 42704 */
#define TENANCY_ERRCODE_BAD_ARGUMENT	ERRCODE_INVALID_PARAMETER_VALUE /* 22023 */
#define TENANCY_ERRCODE_BAD_STATE		ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE	/* 55000 */
#define TENANCY_ERRCODE_INVARIANT		ERRCODE_CHECK_VIOLATION /* 23514 */
#define TENANCY_ERRCODE_DUPLICATE		ERRCODE_UNIQUE_VIOLATION	/* 23505 */
#define TENANCY_ERRCODE_TRIGGER			ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED	/* 39P01 */

/* Rights, as bits.  The SQL spelling is in rights_names[] (rights.c). */
#define TENANCY_RIGHT_READ		0x01
#define TENANCY_RIGHT_WRITE		0x02
#define TENANCY_RIGHT_SUBMIT	0x04
#define TENANCY_RIGHT_MANAGE	0x08
#define TENANCY_RIGHTS_ALL		0x0F
/* not a right: marks an administration inside the identity's wall */
#define TENANCY_IN_SCOPE		0x80

/* longest code of a compartment, client or administration */
#define TENANCY_MAX_CODE_LENGTH	64

/* Roles created by the install script */
#define TENANCY_ADMIN_ROLE		"tenancy_admin"
#define TENANCY_APP_ROLE		"tenancy_app"

/*
 * The session identity, as the GUC tenancy.identity carries it (identity.c).
 * user_id == 0 means "no identity".
 */
typedef struct TenancyIdentity
{
	int64		user_id;
	int64		compartment_id;
	int64		account_id;
	Oid			login;			/* the session user that set it (act_as,
								 * act_as_local), or InvalidOid (a token) */
	bool		locked;
	/* hex SHA-256 of the lock key, or "" */
	char		lock_hash[PG_SHA256_DIGEST_STRING_LENGTH];
	bool		local;			/* ends with the transaction (act_as_local) */
} TenancyIdentity;

/*
 * State saved by tenancy_catalog_elevate() and restored by
 * tenancy_catalog_restore().
 */
typedef struct TenancyElevation
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			guc_nestlevel;
} TenancyElevation;

/* identity.c */
typedef void (*TenancyIdentityListener) (bool settled);
extern void tenancy_identity_init(void);
extern void tenancy_identity_listen(TenancyIdentityListener listener);
extern const TenancyIdentity *tenancy_identity_current(void);
extern bool tenancy_identity_is_set(void);
extern void tenancy_utility_init(void);
extern uint64 tenancy_identity_installs;

/* token.c */
struct PlannedStmt;
typedef void (*TenancyTokenListener) (const TenancyIdentity *received);
extern void tenancy_token_init(void);
extern void tenancy_token_listen(TenancyTokenListener listener);
extern const TenancyIdentity *tenancy_token_received(void);
extern void tenancy_token_make(const TenancyIdentity *ident, char *buf);
extern void tenancy_token_check_change(void);
extern void tenancy_token_follow(const TenancyIdentity *ident);
extern void tenancy_token_before_query(const TenancyIdentity *ident,
									   struct PlannedStmt *stmt);
extern void tenancy_token_hide_statement(void);

/* longest tenancy token (token.c) */
#define TENANCY_TOKEN_MAX_LENGTH	512

/* catalog.c */
extern void tenancy_catalog_init(void);
extern Oid	tenancy_catalog_namespace(void);
extern Oid	tenancy_catalog_relid(const char *relname);
extern char *tenancy_catalog_relation_name(Oid relid);
extern Oid	tenancy_catalog_function(const char *name, int nargs, const Oid *argtypes);
extern Oid	tenancy_catalog_owner(void);
extern void tenancy_catalog_save_setting(const char *name, const char *value);
extern int	tenancy_catalog_pin_search_path(void);
extern void tenancy_catalog_elevate(TenancyElevation *save);
extern void tenancy_catalog_restore(TenancyElevation *save);
extern bool tenancy_catalog_is_operator(void);
extern bool tenancy_catalog_has_role(Oid roleid, const char *rolename);
/* called inside the SPI connection with the n rows of the statement */
typedef void (*TenancyCatalogReader) (int n, void *arg);
/* statements run inside one elevated SPI connection */
typedef void (*TenancyCatalogBody) (void *arg);
extern void tenancy_catalog_within(TenancyCatalogBody body, void *arg);
extern void tenancy_catalog_within_as(Oid role, int sec_flags,
									  TenancyCatalogBody body, void *arg);
extern int	tenancy_catalog_read(SPIPlanPtr *plan, const char *sql, int nargs,
								 Oid *argtypes, Datum *values,
								 TenancyCatalogReader reader, void *arg);
extern int	tenancy_catalog_read_latest(SPIPlanPtr *plan, const char *sql, int nargs,
										Oid *argtypes, Datum *values,
										TenancyCatalogReader reader, void *arg);
extern int	tenancy_catalog_write(SPIPlanPtr *plan, const char *sql, int nargs,
								  Oid *argtypes, Datum *values, const char *nulls,
								  TenancyCatalogReader reader, void *arg);
extern int64 tenancy_catalog_write_first(SPIPlanPtr *plan, const char *sql, int nargs,
										 Oid *argtypes, Datum *values, const char *nulls);
extern int64 tenancy_catalog_state_write(SPIPlanPtr *plan, const char *sql, int nargs,
										 Oid *argtypes, Datum *values, const char *nulls);
extern bool tenancy_catalog_state_writing(void);
extern int	tenancy_catalog_exec(SPIPlanPtr *plan, const char *sql, int nargs,
								 Oid *argtypes, Datum *values, const char *nulls,
								 bool read_only);
extern int	tenancy_catalog_exec_latest(SPIPlanPtr *plan, const char *sql,
										int nargs, Oid *argtypes, Datum *values,
										const char *nulls);
extern bool tenancy_catalog_get_int64(int row, int col, int64 *value);
extern bool tenancy_catalog_get_bool(int row, int col);
extern char *tenancy_catalog_get_text(int row, int col);
extern int	tenancy_catalog_get_rights(int row, int col);
/* the row lock tenancy_catalog_administration takes */
typedef enum TenancyRowLock
{
	TENANCY_LOCK_NONE,
	TENANCY_LOCK_KEY_SHARE,
	TENANCY_LOCK_SHARE,
	TENANCY_LOCK_NO_KEY_UPDATE,
	TENANCY_LOCK_UPDATE
} TenancyRowLock;

extern bool tenancy_catalog_administration(int64 administration_id, TenancyRowLock lock,
										   int64 *admin, char **state);
extern int	tenancy_catalog_query(SPIPlanPtr *plan, const char *sql, int nargs,
								  Oid *argtypes, Datum *values, const char *nulls,
								  int64 *ints, int nints, char **texts, int ntexts);
extern int	tenancy_catalog_read_statement(SPIPlanPtr *plan, const char *sql,
										   int nargs, Oid *argtypes, Datum *values,
										   TenancyCatalogReader reader, void *arg);
extern int	tenancy_catalog_query_statement(SPIPlanPtr *plan, const char *sql,
											int nargs, Oid *argtypes, Datum *values,
											const char *nulls, int64 *ints, int nints,
											char **texts, int ntexts);
extern int	tenancy_catalog_query_latest(SPIPlanPtr *plan, const char *sql, int nargs,
										 Oid *argtypes, Datum *values, const char *nulls,
										 int64 *ints, int nints, char **texts, int ntexts);
extern void tenancy_catalog_require_arg(FunctionCallInfo fcinfo, int argno,
										const char *name);
extern char *tenancy_catalog_text_arg(FunctionCallInfo fcinfo, int argno,
									  const char *name);
extern bool tenancy_catalog_bool_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern bool tenancy_catalog_code_valid(const char *code);
extern void tenancy_catalog_require_code(const char *code, const char *what);
/* what a code names; tenancy_catalog_require_free_code */
typedef enum TenancyCodeKind
{
	TENANCY_CODE_COMPARTMENT,
	TENANCY_CODE_CLIENT,
	TENANCY_CODE_ADMINISTRATION
} TenancyCodeKind;
extern void tenancy_catalog_require_free_code(TenancyCodeKind kind,
											  int64 compartment_id,
											  const char *code,
											  const char *hint);
extern bool tenancy_catalog_is_blank(const char *str);
extern void tenancy_catalog_require_list(ArrayType *list, const char *name,
										 const char *hint);
extern void tenancy_catalog_require_coordinator(const char *action);
extern void tenancy_catalog_run(const char *fmt,...) pg_attribute_printf(1, 2);
extern void tenancy_catalog_error_no_identity(const char *detail,
											  const char *hint) pg_attribute_noreturn();
extern void tenancy_catalog_error_unknown(const char *kind, int64 id,
										  const char *detail,
										  const char *hint) pg_attribute_noreturn();
extern void tenancy_catalog_error_elsewhere(const char *kind, int64 id, bool is_operator,
											const char *detail, const char *operator_detail,
											const char *operator_hint) pg_attribute_noreturn();
extern void tenancy_catalog_error_inaccessible(const char *kind, int64 id,
											   bool is_operator,
											   const char *detail,
											   const char *hint) pg_attribute_noreturn();

/* rights.c */
extern int	tenancy_rights_read(SPIPlanPtr *plan, const char *sql, int nargs,
								Oid *argtypes, Datum *values,
								TenancyCatalogReader reader, void *arg);
extern int	tenancy_rights_query(SPIPlanPtr *plan, const char *sql, int nargs,
								 Oid *argtypes, Datum *values, int64 *ints, int nints);

/* the facts of one user that its rights and roles depend on */
typedef struct TenancyUserFacts
{
	int64		user_id;		/* 0: no such user */
	int64		compartment_id;
	int64		account_id;
	int64		client_id;		/* external users only, else 0 */
	bool		internal;
	bool		is_admin;
	bool		disabled;
} TenancyUserFacts;

/* where a user's rights on one administration come from */
typedef struct TenancyRightsSources
{
	int			permission;		/* rights of its permission (R7), or 0 */
	bool		archive_read;	/* the archive rule gives read (R18) */
	int			delegated;		/* rights of the delegations in force (R20) */
	TimestampTz delegated_until;	/* the first end among those, or 0 */
} TenancyRightsSources;

/* tenancy_rights_sources: the caller has not read the permission */
#define TENANCY_PERMISSION_UNREAD	(-1)

/* one row of a complete load: an administration and what gives the right */
#define TENANCY_RIGHTS_FROM_PERMISSION	1
#define TENANCY_RIGHTS_FROM_ARCHIVE		2
#define TENANCY_RIGHTS_FROM_DELEGATION	3
#define TENANCY_RIGHTS_FROM_BINDING		4

typedef struct TenancyRightsRow
{
	int64		administration_id;
	int64		compartment_id;
	int64		client_id;
	char		state;			/* see tenancy_rights_state_code */
	uint8		source;			/* TENANCY_RIGHTS_FROM_* */
	int			rights;			/* before the state's mask */
	TimestampTz until;			/* a delegation's end, else 0 */
} TenancyRightsRow;

extern int	tenancy_rights_index(int bit);
extern int	tenancy_rights_parse_one(const char *name);
extern int	tenancy_rights_parse(ArrayType *rights, const char *argname);
extern ArrayType *tenancy_rights_array(int mask);
extern char *tenancy_rights_text(int mask);
extern char tenancy_rights_state_code(const char *state);
extern int	tenancy_rights_state_allows(char state);
extern bool tenancy_rights_user(int64 user_id, TenancyUserFacts *user);
extern bool tenancy_rights_identity_user(TenancyUserFacts *user);
extern bool tenancy_rights_user_active(int64 user_id, int64 compartment_id,
									   int64 account_id);
extern bool tenancy_rights_is_administrator(const TenancyUserFacts *user,
											int64 compartment_id);
extern bool tenancy_rights_may_hold(const TenancyUserFacts *user,
									int64 admin_compartment, int64 admin_client);
extern bool tenancy_rights_is_client_user(const TenancyUserFacts *user,
										  int64 compartment_id, int64 client_id);
extern bool tenancy_rights_sees_migration(const TenancyUserFacts *user,
										  int64 source_compartment,
										  int64 source_client,
										  int64 target_compartment,
										  int64 target_client);
extern bool tenancy_rights_is_manager(bool is_operator, int64 compartment_id);
extern void tenancy_rights_require_manager(bool is_operator,
										   int64 compartment_id,
										   const char *objkind, int64 objid);
extern void tenancy_rights_require_compartment_manager(bool is_operator,
													   int64 compartment_id);
extern int	tenancy_rights_permission(int64 user_id, int64 administration_id,
									  int64 *compartment_id);
extern TimestampTz tenancy_rights_now(void);
extern void tenancy_rights_sources(int64 user_id, int64 user_compartment,
								   int64 administration_id,
								   int64 admin_compartment, TimestampTz now,
								   bool any_migration, bool any_delegation,
								   int permission, TenancyRightsSources *src);
extern int	tenancy_rights_effective(bool user_active, int64 user_compartment,
									 int64 admin_compartment, char state,
									 const TenancyRightsSources *src);
extern int	tenancy_rights_committed(int64 user_id, int64 user_compartment,
									 int64 account_id, int64 administration_id);
extern TenancyRightsRow *tenancy_rights_load_user(int64 user_id,
												  int64 compartment_id,
												  int *nrows, int *npermissions);
extern int64 tenancy_rights_binding(Oid role);
extern TenancyRightsRow *tenancy_rights_load_reporting(Oid role, int *nrows);
extern int	tenancy_rights_row_effective(const TenancyRightsRow *row,
										 int64 compartment_id);

/*
 * What the identity's scope cache knows of one administration (visibility.c)
 */
typedef struct TenancyScopeInfo
{
	int			rights;			/* TENANCY_IN_SCOPE | effective rights, or 0 */
	int64		client_id;
	char		state;			/* 'a'ctive, a'r'chived, 'd'eleted, or 0 */
} TenancyScopeInfo;

/* distribute.c */
extern bool tenancy_distribute_is_citus_table(Oid relid);

/* citus_guard.c */
extern void tenancy_citus_guard_init(void);
extern void tenancy_citus_guard_distribute_begin(Oid relid);
extern void tenancy_citus_guard_distribute_end(void);
extern void tenancy_citus_guard_utility(Node *parsetree);
extern bool tenancy_citus_guard_rebuilding(void);

/* probe.c */
extern void tenancy_probe_forget(void);
extern bool tenancy_probe_latest(bool on);
extern bool tenancy_probe_available(void);
extern bool tenancy_probe_replica(void);
extern char *tenancy_probe_replica_sql(const char *sql);
extern int64 tenancy_probe_replica_version(void);
extern int64 tenancy_probe_binding(Oid login);
extern bool tenancy_probe_administration_now(int64 administration_id, int64 *client_id,
											 const char **state);
extern bool tenancy_probe_user(int64 user_id, int64 compartment_id,
							   int64 account_id);
extern bool tenancy_probe_identity(int64 user_id, Oid login, int64 *compartment_id,
								   int64 *account_id, bool *disabled, bool *bound);
extern bool tenancy_probe_administration(int64 administration_id,
										 int64 *compartment_id, int64 *client_id,
										 const char **state);
extern int	tenancy_probe_permission(int64 user_id, int64 administration_id,
									 int64 *compartment_id);
extern int	tenancy_probe_all_active(int64 compartment_id);
extern TenancyRightsRow *tenancy_probe_user_permissions(int64 user_id, int64 compartment_id,
														 int *nrows);
extern bool tenancy_probe_archive_read(int64 user_id, int64 administration_id,
									   int64 compartment_id);
extern int	tenancy_probe_delegation(int64 user_id, int64 administration_id,
									 TimestampTz now, TimestampTz *until);
extern bool tenancy_probe_any_delegation(void);
extern bool tenancy_probe_any_migration(void);

/* visibility.c */
extern void tenancy_visibility_init(void);
extern void tenancy_visibility_catalog_written(void);
extern int	tenancy_visibility_rights(int64 administration_id);
extern bool tenancy_visibility_lookup(int64 administration_id,
									  TenancyScopeInfo *info);
extern bool tenancy_visibility_reporting(void);
extern int	tenancy_visibility_count(int bit);
extern bool tenancy_visibility_user(int64 user_id, Oid login, int64 *compartment_id,
									int64 *account_id, bool *disabled, bool *bound);

/* triggers.c */
struct TriggerData;
extern void tenancy_trigger_require_relation(struct TriggerData *trigdata,
											 const char *fname,
											 const char *relname);

/* audit.c */
extern void tenancy_audit_init(void);

/* migration.c */
/* what tenancy_migration_require_none_open guards */
typedef enum TenancyMigrationChange
{
	TENANCY_MIGRATION_CLIENT,	/* the administration's client */
	TENANCY_MIGRATION_CARRIED_RIGHTS	/* an external user's rights on it */
} TenancyMigrationChange;
extern void tenancy_migration_require_none_open(int64 administration_id,
												TenancyMigrationChange change);

/* protect.c */
extern Datum tenancy_protect(PG_FUNCTION_ARGS);

/* rows of one protected table removed by tenancy_protect_delete_rows() */
typedef struct TenancyRemovedRows
{
	char	   *table;			/* qualified name, as regclass prints it */
	uint64		rows;
} TenancyRemovedRows;

extern char *tenancy_protected_column(Oid relid);
extern void tenancy_protect_freeze(void);
extern void tenancy_protect_require_removable(bool all_tables);
extern void tenancy_protect_forget_dropped(void);
extern List *tenancy_protect_delete_rows(int64 administration_id,
										 bool all_tables, int64 *total);

/* ddl.c */
extern void tenancy_ddl_own_begin(List *relids);
extern void tenancy_ddl_own_end(void);
extern void tenancy_ddl_require_sound(List *relids);
extern void tenancy_ddl_require_walls(List *relids);
extern bool tenancy_ddl_is_protected(Oid relid);
extern bool tenancy_ddl_matview_fill_begin(Node *parsetree);
extern void tenancy_ddl_matview_fill_end(void);
extern bool tenancy_ddl_matview_filling(void);
extern struct PlannedStmt *tenancy_ddl_matview_fill_plan(struct PlannedStmt *stmt);
extern void tenancy_ddl_check_matview_fill(struct PlannedStmt *stmt);

/* planner.c (and the SQL-callable planner support function row_support) */
extern void tenancy_planner_init(void);

/* merge.c */
extern void tenancy_merge_init(void);

/* session.c */
extern void tenancy_session_init(void);
extern void tenancy_session_adopt(void);
extern void tenancy_session_check_plan(Query *parse, const char *query_string);
extern uint64 tenancy_statement_number;

/* directory.c */
/* (SQL-callable functions only: find_user, compartment_users) */

/* logging.c */
extern void tenancy_logging_init(void);

/* uninstall.c */
/* (SQL-callable event trigger function only) */

/* restore.c */
/* (SQL-callable trigger function only) */

/* delegation.c */
extern int64 tenancy_delegation_remove_all(int64 administration_id);

/* manage.c, reporting.c, explain.c */
/* (SQL-callable functions only) */

#endif							/* TENANCY_H */
