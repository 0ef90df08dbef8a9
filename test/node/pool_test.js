'use strict';
/*
 * test/node/pool_test.js
 *	  node-postgres tests of the tenancy extension: a pool of connections
 *	  reused by many identities, as an application server runs it (R2, R4,
 *	  R6, R7), directly against the server or through pgbouncer in
 *	  transaction pooling mode.
 *
 * Usage:
 *	  node pool_test.js [--label NAME]
 *	                    [--admin-host DIR --admin-port N]   superuser, direct
 *	                    [--app-host DIR --app-port N]       the application pool
 *	                    [--database NAME]                   default node_test
 *	                    [--single-database NAME]            pgbouncer only: an
 *	                                                        alias of the same
 *	                                                        database whose pool
 *	                                                        has one server
 *	                                                        connection
 * Hosts and ports default to PGHOST and PGPORT.
 *
 * The superuser connection (never through the pooler) installs the
 * extension when it is missing and builds the fixture the first time it
 * runs in the database, in one transaction: two compartments, five
 * clients, ten administrations, 50 users with read (some also write, some
 * only submit), the protected table public.regress_node_ledger whose rows
 * are labelled "<administration code>/<n>", and the login role
 * regress_node_app (member of tenancy_app).  Later runs (the pgbouncer run
 * after the direct one) find the fixture and check that it is this one.
 *
 * The scenarios connect as regress_node_app:
 *	  pool        pg.Pool of 4 connections, 1,000 requests alternating the
 *	              50 identities, run 100 at a time: each request is
 *	              BEGIN; act_as_local; SELECT the ledger; COMMIT, and must
 *	              see exactly its identity's rows, and nothing afterwards
 *	  failures    requests that fail after act_as_local (an error, a write
 *	              without the write right) leave no identity behind
 *	  transaction_pool  (with --single-database) two clients sharing one
 *	              pgbouncer server connection: act_as_local ends with the
 *	              transaction, a session-level act_as does not (the control
 *	              that proves the two clients really share the server), and
 *	              DISCARD ALL clears it, lock included
 *	  leftovers   (with --single-database, R4, R24) what one request leaves
 *	              on the shared server connection is not readable by the
 *	              next: a cursor held past its act_as_local transaction, and
 *	              a temporary table filled under one identity, neither by a
 *	              request acting as another user nor by one without identity
 *	  portals     (with --single-database, R24) the extended protocol spoken
 *	              message by message (pg-protocol, node-postgres' own
 *	              codec): a named portal suspended under one identity is
 *	              not executed further after act_as_local of another user,
 *	              and a cursor held past an act_as_local transaction is not
 *	              reachable by the next client's Execute by name
 *	  prepared_owners  (without --single-database) statements prepared
 *	              with SQL and closed with the protocol's Close, which no
 *	              hook of the server sees: what tenancy keeps of their
 *	              owners stays bounded (the memory of its table is the
 *	              same after 500 and after 3,000 of them)
 *	  local_only  (with --single-database, R4) the login regress_node_pooled
 *	              has tenancy.local_identity_only set (ALTER ROLE ... SET):
 *	              its session-level act_as is refused, act_as_local works,
 *	              and the next client on the server connection finds nothing
 *
 * Expected rows come from the fixture definition below, never from the
 * extension.  Output is TAP ("ok N - ...", "not ok N - ...", "1..N"); exit
 * status 0 when every test passed, 1 when one failed, 2 on bail-out.
 */

const net = require('net');
const pg = require('pg');
const { serialize, parse: parseMessages } = require('pg-protocol');

const LEDGER = 'public.regress_node_ledger';
const APP_ROLE = 'regress_node_app';
const POOLED_ROLE = 'regress_node_pooled';
const POOL_SIZE = 4;
const NREQUESTS = 1000;
const BATCH = 100;
const NUSERS = 50;
const TIME_LIMIT_MS = 120000;
const MAX_DIAG = 8;

/* ----------------------------------------------------------------
 * Command line
 * ----------------------------------------------------------------
 */

function parseArgs(argv) {
	const opts = {
		label: 'direct',
		adminHost: process.env.PGHOST,
		adminPort: process.env.PGPORT,
		appHost: null,
		appPort: null,
		database: 'node_test',
		singleDatabase: null,
	};
	const names = {
		'--label': 'label',
		'--admin-host': 'adminHost',
		'--admin-port': 'adminPort',
		'--app-host': 'appHost',
		'--app-port': 'appPort',
		'--database': 'database',
		'--single-database': 'singleDatabase',
	};
	for (let i = 2; i < argv.length; i += 2) {
		const key = names[argv[i]];
		if (!key || i + 1 >= argv.length) {
			console.error(`usage: node pool_test.js [${Object.keys(names).join(' X] [')} X]`);
			process.exit(2);
		}
		opts[key] = argv[i + 1];
	}
	opts.appHost = opts.appHost || opts.adminHost;
	opts.appPort = opts.appPort || opts.adminPort;
	return opts;
}

const opts = parseArgs(process.argv);

/* ----------------------------------------------------------------
 * TAP output
 * ----------------------------------------------------------------
 */

let testsRun = 0;
let testsFailed = 0;

class Check {
	constructor(name) {
		this.name = `${opts.label}: ${name}`;
		this.failures = 0;
		this.diagLeft = MAX_DIAG;
	}

	fail(msg) {
		this.failures++;
		if (this.diagLeft <= 0)
			return;
		if (--this.diagLeft === 0) {
			console.log(`# (${this.name}: further failures not shown)`);
			return;
		}
		console.log(`# ${String(msg).replace(/\n/g, ' ')}`);
	}

	expect(cond, msg) {
		if (!cond)
			this.fail(msg);
		return cond;
	}

	report() {
		testsRun++;
		if (this.failures === 0) {
			console.log(`ok ${testsRun} - ${this.name}`);
		} else {
			testsFailed++;
			console.log(`not ok ${testsRun} - ${this.name}`);
			console.log(`#   ${this.failures} failure(s)`);
		}
	}
}

function bail(msg) {
	console.log(`Bail out! ${String(msg).replace(/\n/g, ' ')}`);
	process.exit(2);
}

/* a bounded run: whatever hangs, the test ends */
setTimeout(() => bail(`time limit of ${TIME_LIMIT_MS / 1000} s reached`),
	TIME_LIMIT_MS).unref();

/* ----------------------------------------------------------------
 * The fixture
 *
 * Administration j holds 5 + 3 * j rows, so that mixing up two
 * administrations always changes a count.  Users 0..29 belong to
 * compartment A, 30..49 to compartment B; user 29 holds no right at all.
 * Each other user reads one administration of its compartment, every third
 * one a second one, every fifth one a third one; every fourth one holds
 * only "submit" on a further administration (submit alone shows no row,
 * R7); every sixth one also writes its first administration.  A user whose
 * administrations all belong to one client is external (of that client)
 * when its index is 6 modulo 7 (R8 allows exactly that).
 * ----------------------------------------------------------------
 */

const COMPARTMENTS = ['regress_node_a', 'regress_node_b'];

const ADMINS = [
	{ compartment: 0, client: 'c1', code: 'na1' },
	{ compartment: 0, client: 'c1', code: 'na2' },
	{ compartment: 0, client: 'c2', code: 'na3' },
	{ compartment: 0, client: 'c2', code: 'na4' },
	{ compartment: 0, client: 'c3', code: 'na5' },
	{ compartment: 0, client: 'c3', code: 'na6' },
	{ compartment: 1, client: 'd1', code: 'nb1' },
	{ compartment: 1, client: 'd1', code: 'nb2' },
	{ compartment: 1, client: 'd2', code: 'nb3' },
	{ compartment: 1, client: 'd2', code: 'nb4' },
].map((a, j) => ({ ...a, nrows: 5 + 3 * j, id: null }));

function planUsers() {
	const users = [];
	for (let k = 0; k < NUSERS; k++) {
		const comp = k < 30 ? 0 : 1;
		const local = comp === 0 ? k : k - 30;
		const mine = ADMINS.map((a, j) => j).filter(j => ADMINS[j].compartment === comp);
		const n = mine.length;
		const grants = new Map();	/* admin index -> rights */
		if (k !== 29) {
			const reads = new Set([mine[local % n]]);
			if (local % 3 === 1)
				reads.add(mine[(local + 1) % n]);
			if (local % 5 === 2)
				reads.add(mine[(local + 3) % n]);
			for (const j of reads)
				grants.set(j, ['read']);
			if (local % 6 === 0)
				grants.get(mine[local % n]).push('write');
			if (local % 4 === 3) {
				const j = mine[(local + 2) % n];
				if (!grants.has(j))
					grants.set(j, ['submit']);
			}
		}
		const clients = new Set([...grants.keys()].map(j => ADMINS[j].client));
		const external = grants.size > 0 && clients.size === 1 && local % 7 === 6;
		users.push({
			index: k,
			email: `node-user-${String(k).padStart(2, '0')}@regress-node.example`,
			compartment: comp,
			external,
			client: external ? [...clients][0] : null,
			grants,
			id: null,
		});
	}
	return users;
}

const USERS = planUsers();

/* the rows a user must see, as "administration id:label", in ledger order */
function expectedRows(u) {
	const out = [];
	ADMINS.forEach((a, j) => {
		const rights = u.grants.get(j);
		if (!rights || !rights.includes('read'))
			return;
		for (let n = 1; n <= a.nrows; n++)
			out.push(`${a.id}:${a.code}/${n}`);
	});
	return out;
}

function sameList(got, want) {
	if (got.length !== want.length)
		return false;
	for (let i = 0; i < got.length; i++)
		if (got[i] !== want[i])
			return false;
	return true;
}

async function one(client, sql, params) {
	const res = await client.query(sql, params);
	if (res.rows.length !== 1)
		throw new Error(`expected one row from: ${sql}`);
	return Object.values(res.rows[0])[0];
}

async function buildFixture(su) {
	await su.query('BEGIN');
	await su.query(`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
			CREATE ROLE ${APP_ROLE} LOGIN IN ROLE tenancy_app;
		END IF; END $$`);
	const sub = await one(su, "SELECT tenancy.create_subscription('regress node')");
	const compIds = [];
	for (let i = 0; i < COMPARTMENTS.length; i++)
		compIds.push(await one(su, 'SELECT tenancy.create_compartment($1, $2, $3)',
			[sub, COMPARTMENTS[i], `node tests ${'AB'[i]}`]));
	const clientIds = new Map();	/* "compartment/client" -> id */
	for (const a of ADMINS) {
		const key = `${a.compartment}/${a.client}`;
		if (!clientIds.has(key))
			clientIds.set(key, await one(su, 'SELECT tenancy.create_client($1, $2, $3)',
				[compIds[a.compartment], a.client, `client ${a.client}`]));
		a.id = await one(su, 'SELECT tenancy.create_administration($1, $2, $3)',
			[clientIds.get(key), a.code, `books ${a.code}`]);
	}
	await su.query(`CREATE TABLE ${LEDGER} (
		administration_id bigint NOT NULL,
		id integer GENERATED ALWAYS AS IDENTITY,
		label text NOT NULL,
		amount integer NOT NULL,
		PRIMARY KEY (administration_id, id))`);
	/* the rows go in before protect(), as a table owner loading data would */
	for (const a of ADMINS)
		await su.query(`INSERT INTO ${LEDGER} (administration_id, label, amount)
			SELECT $1::bigint, $2 || '/' || g, g FROM generate_series(1, $3::integer) g`,
		[a.id, a.code, a.nrows]);
	await su.query(`SELECT tenancy.protect('${LEDGER}')`);
	await su.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${LEDGER} TO ${APP_ROLE}`);
	for (const u of USERS) {
		const userId = await one(su, 'SELECT tenancy.add_user($1, $2, $3, $4)',
			[compIds[u.compartment], u.email, u.external ? 'external' : 'internal',
				u.external ? clientIds.get(`${u.compartment}/${u.client}`) : null]);
		for (const [j, rights] of u.grants)
			await su.query('SELECT tenancy.grant_rights($1, $2, $3)',
				[userId, ADMINS[j].id, rights]);
	}
	await su.query('COMMIT');
}

/*
 * Read the ids back from the catalog and check, as the superuser (who is
 * not subject to row security), that the database holds this fixture.
 */
async function loadFixture(su) {
	const c = new Check('the fixture holds the planned catalog and ledger rows');
	for (const a of ADMINS) {
		const res = await su.query(`SELECT a.id, cl.code AS client,
				(SELECT count(*) FROM ${LEDGER} l WHERE l.administration_id = a.id) AS nrows
			FROM tenancy.administration a
			JOIN tenancy.compartment k ON k.id = a.compartment_id
			JOIN tenancy.client cl ON cl.id = a.client_id
			WHERE k.code = $1 AND a.code = $2`, [COMPARTMENTS[a.compartment], a.code]);
		if (res.rows.length !== 1)
			bail(`administration ${a.code} is missing; drop database ${opts.database} and run again`);
		a.id = res.rows[0].id;
		c.expect(res.rows[0].client === a.client, `${a.code}: client ${res.rows[0].client}`);
		c.expect(Number(res.rows[0].nrows) === a.nrows,
			`${a.code}: ${res.rows[0].nrows} ledger rows, expected ${a.nrows}`);
	}
	for (const u of USERS) {
		const res = await su.query(`SELECT u.id, u.kind, k.code AS compartment
			FROM tenancy.users u
			JOIN tenancy.account ac ON ac.id = u.account_id
			JOIN tenancy.compartment k ON k.id = u.compartment_id
			WHERE lower(ac.email) = lower($1)`, [u.email]);
		if (res.rows.length !== 1)
			bail(`user ${u.email} is missing; drop database ${opts.database} and run again`);
		u.id = res.rows[0].id;
		c.expect(res.rows[0].kind === (u.external ? 'external' : 'internal'), `${u.email}: kind`);
		c.expect(res.rows[0].compartment === COMPARTMENTS[u.compartment], `${u.email}: compartment`);
		const perms = await su.query(`SELECT administration_id, can_read, can_write, can_submit
			FROM tenancy.permission WHERE user_id = $1 ORDER BY administration_id`, [u.id]);
		const got = perms.rows.map(p => `${p.administration_id}:${p.can_read}${p.can_write}${p.can_submit}`);
		const want = [...u.grants].sort((x, y) => ADMINS[x[0]].id - ADMINS[y[0]].id)
			.map(([j, r]) => `${ADMINS[j].id}:${r.includes('read')}${r.includes('write')}${r.includes('submit')}`);
		c.expect(sameList(got, want), `${u.email}: permissions ${got} expected ${want}`);
	}
	const prot = await one(su, `SELECT count(*) FROM tenancy.protected_table
		WHERE relid = '${LEDGER}'::regclass`);
	c.expect(Number(prot) === 1, `${LEDGER} is not registered as protected`);
	c.report();
}

async function setUp() {
	const su = new pg.Client({
		host: opts.adminHost, port: opts.adminPort, user: 'postgres',
		database: opts.database,
	});
	await su.connect();
	await su.query('SET client_min_messages = warning');
	await su.query('CREATE EXTENSION IF NOT EXISTS tenancy');
	const exists = await one(su, `SELECT count(*) FROM tenancy.compartment WHERE code = $1`,
		[COMPARTMENTS[0]]);
	if (Number(exists) === 0)
		await buildFixture(su);
	await loadFixture(su);
	/* the login of an application server behind transaction pooling */
	await su.query(`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POOLED_ROLE}') THEN
			CREATE ROLE ${POOLED_ROLE} LOGIN IN ROLE tenancy_app;
		END IF; END $$`);
	await su.query(`ALTER ROLE ${POOLED_ROLE} SET tenancy.local_identity_only = on`);
	await su.query(`GRANT SELECT ON ${LEDGER} TO ${POOLED_ROLE}`);
	await su.end();
}

/* ----------------------------------------------------------------
 * Scenarios
 * ----------------------------------------------------------------
 */

function appConfig(database) {
	return {
		host: opts.appHost, port: opts.appPort, user: APP_ROLE,
		database: database || opts.database,
		connectionTimeoutMillis: 20000,
	};
}

const ROWS_SQL = `SELECT administration_id, label FROM ${LEDGER} ORDER BY administration_id, id`;
const AFTER_SQL = `SELECT tenancy.current_user_id() AS uid,
	(SELECT count(*) FROM ${LEDGER}) AS n, pg_backend_pid() AS pid`;

/*
 * One request of an application server: a transaction that acts as the
 * user, reads the ledger and commits; then, on the same pooled connection,
 * what is left.  Even requests pass the user id as a parameter (extended
 * protocol), odd ones inline (simple protocol).
 */
async function request(pool, u, i) {
	const client = await pool.connect();
	try {
		await client.query('BEGIN');
		if (i % 2 === 0)
			await client.query('SELECT tenancy.act_as_local($1)', [u.id]);
		else
			await client.query(`SELECT tenancy.act_as_local(${u.id})`);
		const who = await client.query('SELECT tenancy.current_user_id() AS uid, pg_backend_pid() AS pid');
		const rows = await client.query(ROWS_SQL);
		await client.query('COMMIT');
		const after = await client.query(AFTER_SQL);
		return {
			u, i,
			uid: who.rows[0].uid,
			pid: who.rows[0].pid,
			rows: rows.rows.map(r => `${r.administration_id}:${r.label}`),
			after: after.rows[0],
		};
	} finally {
		client.release();
	}
}

async function testPool() {
	const cRows = new Check(`pool of ${POOL_SIZE}, ${NREQUESTS} requests by ${NUSERS} identities: each sees exactly its identity's rows`);
	const cWho = new Check('inside each transaction current_user_id() is the request\'s user');
	const cAfter = new Check('after each COMMIT no identity remains and no row is visible');
	const cReuse = new Check(`the pool reused at most ${POOL_SIZE} server connections, each for several identities`);
	const pool = new pg.Pool({ ...appConfig(), max: POOL_SIZE });
	const byPid = new Map();
	try {
		for (let start = 0; start < NREQUESTS; start += BATCH) {
			const batch = [];
			for (let i = start; i < start + BATCH && i < NREQUESTS; i++)
				batch.push(request(pool, USERS[i % NUSERS], i));
			for (const r of await Promise.all(batch)) {
				const want = expectedRows(r.u);
				cRows.expect(sameList(r.rows, want),
					`request ${r.i} as ${r.u.email}: ${r.rows.length} rows [${r.rows.slice(0, 4)}...], expected ${want.length} [${want.slice(0, 4)}...]`);
				cWho.expect(r.uid === r.u.id,
					`request ${r.i}: current_user_id() is ${r.uid}, expected ${r.u.id}`);
				cAfter.expect(r.after.uid === null && Number(r.after.n) === 0,
					`request ${r.i} as ${r.u.email}: after COMMIT current_user_id() is ${r.after.uid}, ${r.after.n} rows visible`);
				if (!byPid.has(r.pid))
					byPid.set(r.pid, new Set());
				byPid.get(r.pid).add(r.u.id);
			}
		}
	} catch (e) {
		cRows.fail(`request failed: ${e.message}`);
	} finally {
		await pool.end();
	}
	cReuse.expect(byPid.size >= 1 && byPid.size <= POOL_SIZE,
		`${byPid.size} server connections served the requests`);
	for (const [pid, ids] of byPid)
		cReuse.expect(ids.size > 1, `server connection ${pid} served only ${ids.size} identity`);
	console.log(`# ${byPid.size} server connection(s) served ${[...byPid.values()].map(s => s.size).join(', ')} identities`);
	cRows.report();
	cWho.report();
	cAfter.report();
	cReuse.report();
}

/*
 * Requests that go wrong after act_as_local: a failing statement, and an
 * insert into an administration the user only reads (42501).  After the
 * ROLLBACK the connection carries no identity.
 */
async function testFailures() {
	const cErr = new Check('an error after act_as_local, then ROLLBACK, leaves no identity');
	const cWrite = new Check('an insert without the write right is refused (42501) and leaves no identity');
	const pool = new pg.Pool({ ...appConfig(), max: POOL_SIZE });
	const readOnly = USERS.filter(u => [...u.grants.values()].some(r => r.includes('read') && !r.includes('write')));

	async function failing(u, i, write) {
		const client = await pool.connect();
		let code = null;
		try {
			await client.query('BEGIN');
			await client.query('SELECT tenancy.act_as_local($1)', [u.id]);
			try {
				if (write) {
					const j = [...u.grants].find(([, r]) => r.includes('read') && !r.includes('write'))[0];
					await client.query(`INSERT INTO ${LEDGER} (administration_id, label, amount)
						VALUES ($1, 'forbidden', 0)`, [ADMINS[j].id]);
				} else {
					await client.query('SELECT 1 / (count(*) - count(*)) FROM ' + LEDGER);
				}
			} catch (e) {
				code = e.code;
			}
			await client.query('ROLLBACK');
			const after = await client.query(AFTER_SQL);
			return { u, i, code, after: after.rows[0] };
		} finally {
			client.release();
		}
	}

	try {
		const jobs = [];
		for (let i = 0; i < 100; i++) {
			if (i % 2 === 0)
				jobs.push(failing(USERS[i % NUSERS], i, false));
			else
				jobs.push(failing(readOnly[i % readOnly.length], i, true));
		}
		for (const r of await Promise.all(jobs)) {
			const c = r.i % 2 === 0 ? cErr : cWrite;
			c.expect(r.code === (r.i % 2 === 0 ? '22012' : '42501'),
				`request ${r.i} as ${r.u.email}: SQLSTATE ${r.code}`);
			c.expect(r.after.uid === null && Number(r.after.n) === 0,
				`request ${r.i} as ${r.u.email}: after ROLLBACK current_user_id() is ${r.after.uid}, ${r.after.n} rows visible`);
		}
	} catch (e) {
		cErr.fail(`request failed: ${e.message}`);
	} finally {
		await pool.end();
	}
	cErr.report();
	cWrite.report();
}

/*
 * pgbouncer, transaction mode, a pool of one server connection: clients A
 * and B take turns on the same server backend (checked by its pid).
 */
async function testTransactionPool() {
	const cLocal = new Check('transaction pool: act_as_local of one client ends with its transaction; the next client on the same server connection has no identity');
	const cControl = new Check('transaction pool (control): a session-level act_as outlives its transaction and reaches the next client on that server connection, which is why requests must use act_as_local');
	const cDiscard = new Check('transaction pool: DISCARD ALL after a locked session-level act_as leaves neither identity nor lock to the next client');
	const a = new pg.Client(appConfig(opts.singleDatabase));
	const b = new pg.Client(appConfig(opts.singleDatabase));
	const u1 = USERS[0];
	const u2 = USERS[31];
	const who = async client => (await client.query(AFTER_SQL)).rows[0];
	try {
		await a.connect();
		await b.connect();

		/* act_as_local: B's query waits for A's transaction, then runs on its server */
		await a.query('BEGIN');
		await a.query('SELECT tenancy.act_as_local($1)', [u1.id]);
		const inA = await who(a);
		const pending = who(b);	/* queued by pgbouncer until A's COMMIT */
		const rowsA = (await a.query(ROWS_SQL)).rows.map(r => `${r.administration_id}:${r.label}`);
		await a.query('COMMIT');
		const inB = await pending;
		cLocal.expect(inA.uid === u1.id, `A acts as ${inA.uid}, expected ${u1.id}`);
		cLocal.expect(sameList(rowsA, expectedRows(u1)), `A sees ${rowsA.length} rows, expected ${expectedRows(u1).length}`);
		cLocal.expect(inB.pid === inA.pid, `A ran on backend ${inA.pid}, B on ${inB.pid}: the alias must have one server connection`);
		cLocal.expect(inB.uid === null && Number(inB.n) === 0,
			`B, next on A's server connection, acts as ${inB.uid} and sees ${inB.n} rows`);

		/* control: act_as (session) in autocommit, then B on the same server */
		await a.query('SELECT tenancy.act_as($1)', [u1.id]);
		const leak = await who(b);
		cControl.expect(leak.pid === inA.pid, `B ran on backend ${leak.pid}, not ${inA.pid}`);
		cControl.expect(leak.uid === u1.id && Number(leak.n) === expectedRows(u1).length,
			`B sees identity ${leak.uid} and ${leak.n} rows after A's session-level act_as; expected ${u1.id} and ${expectedRows(u1).length}`);
		await a.query('SELECT tenancy.reset()');
		const cleared = await who(b);
		cControl.expect(cleared.uid === null && Number(cleared.n) === 0,
			`after A's reset() B acts as ${cleared.uid} and sees ${cleared.n} rows`);

		/* a locked session identity, then the pool's reset: DISCARD ALL */
		await a.query('SELECT tenancy.act_as($1, $2)', [u1.id, 'regress-node-lock']);
		let refused = null;
		try {
			await b.query('SELECT tenancy.act_as_local($1)', [u2.id]);
		} catch (e) {
			refused = e.code;
		}
		cDiscard.expect(refused !== null, 'act_as_local of another user on a locked server connection was accepted');
		await a.query('DISCARD ALL');
		const afterDiscard = await who(b);
		cDiscard.expect(afterDiscard.pid === inA.pid, `B ran on backend ${afterDiscard.pid}, not ${inA.pid}`);
		cDiscard.expect(afterDiscard.uid === null && Number(afterDiscard.n) === 0,
			`after DISCARD ALL B acts as ${afterDiscard.uid} and sees ${afterDiscard.n} rows`);
		await b.query('BEGIN');
		await b.query('SELECT tenancy.act_as_local($1)', [u2.id]);
		const rowsB = (await b.query(ROWS_SQL)).rows.map(r => `${r.administration_id}:${r.label}`);
		await b.query('COMMIT');
		cDiscard.expect(sameList(rowsB, expectedRows(u2)),
			`after DISCARD ALL B acting as ${u2.email} sees ${rowsB.length} rows, expected ${expectedRows(u2).length}`);
	} catch (e) {
		cLocal.fail(`unexpected error: ${e.message}`);
	} finally {
		await a.end().catch(() => {});
		await b.end().catch(() => {});
	}
	cLocal.report();
	cControl.report();
	cDiscard.report();
}

/* run a statement that must fail; the SQLSTATE, or null when it ran */
async function refused(client, sql, params) {
	try {
		await client.query(sql, params);
	} catch (e) {
		return e.code;
	}
	return null;
}

/*
 * pgbouncer, transaction mode, one server connection: what request A
 * leaves behind (a held cursor, a temporary table) is tried by the next
 * requests on that server: B acting as another user, and B without any
 * identity.
 */
async function testLeftovers() {
	const cCursor = new Check('leftovers (R24): a cursor held past an act_as_local transaction is not fetched by the next request, with another identity or none');
	const cTemp = new Check('leftovers (R24): a temporary table filled under one identity is not read by the next request, with another identity or none');
	const a = new pg.Client(appConfig(opts.singleDatabase));
	const b = new pg.Client(appConfig(opts.singleDatabase));
	const u1 = USERS[0];
	const u2 = USERS[31];
	const pid = async client => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
	try {
		await a.connect();
		await b.connect();

		/* the attack on 1.2: DECLARE ... WITH HOLD under act_as_local */
		await a.query('BEGIN');
		await a.query('SELECT tenancy.act_as_local($1)', [u1.id]);
		await a.query(`DECLARE regress_held CURSOR WITH HOLD FOR ${ROWS_SQL}`);
		const first = (await a.query('FETCH 1 FROM regress_held')).rows;
		const pidA = await pid(a);
		await a.query('COMMIT');
		cCursor.expect(first.length === 1, `A fetched ${first.length} rows from its own cursor`);
		await b.query('BEGIN');
		cCursor.expect(await pid(b) === pidA, "B does not run on A's server connection");
		await b.query('SELECT tenancy.act_as_local($1)', [u2.id]);
		const asOther = await refused(b, 'FETCH ALL FROM regress_held');
		await b.query('ROLLBACK');
		cCursor.expect(asOther === '34000',
			`B acting as ${u2.email} fetched A's held cursor (SQLSTATE ${asOther}, expected 34000)`);
		const asNobody = await refused(b, 'FETCH ALL FROM regress_held');
		cCursor.expect(asNobody === '34000',
			`B without identity fetched A's held cursor (SQLSTATE ${asNobody}, expected 34000)`);
		const after = (await b.query(AFTER_SQL)).rows[0];
		cCursor.expect(after.pid === pidA && after.uid === null && Number(after.n) === 0,
			`B without identity: backend ${after.pid}, identity ${after.uid}, ${after.n} rows`);

		/* a temporary table filled by A's request */
		await a.query('BEGIN');
		await a.query('SELECT tenancy.act_as_local($1)', [u1.id]);
		await a.query(`CREATE TEMP TABLE regress_loot AS ${ROWS_SQL}`);
		const own = Number((await a.query('SELECT count(*) AS n FROM regress_loot')).rows[0].n);
		await a.query('COMMIT');
		cTemp.expect(own === expectedRows(u1).length, `A reads ${own} rows of its own table`);
		await b.query('BEGIN');
		cTemp.expect(await pid(b) === pidA, "B does not run on A's server connection");
		await b.query('SELECT tenancy.act_as_local($1)', [u2.id]);
		const tOther = await refused(b, 'SELECT * FROM regress_loot');
		await b.query('ROLLBACK');
		cTemp.expect(tOther === '42501',
			`B acting as ${u2.email} read A's temporary table (SQLSTATE ${tOther}, expected 42501)`);
		const tNobody = await refused(b, 'SELECT * FROM regress_loot');
		cTemp.expect(tNobody === '42501',
			`B without identity read A's temporary table (SQLSTATE ${tNobody}, expected 42501)`);
		const tCopy = await refused(b, 'COPY regress_loot TO STDOUT');
		cTemp.expect(tCopy === '42501',
			`B without identity copied A's temporary table (SQLSTATE ${tCopy}, expected 42501)`);
		await b.query('DROP TABLE regress_loot');
		const after2 = (await b.query(AFTER_SQL)).rows[0];
		cTemp.expect(after2.pid === pidA && after2.uid === null && Number(after2.n) === 0,
			`B without identity: backend ${after2.pid}, identity ${after2.uid}, ${after2.n} rows`);
	} catch (e) {
		cCursor.fail(`unexpected error: ${e.message}`);
	} finally {
		await a.end().catch(() => {});
		await b.end().catch(() => {});
	}
	cCursor.report();
	cTemp.report();
}

/*
 * A connection that speaks the protocol message by message, for what
 * node-postgres does not expose: an Execute with a row limit that leaves a
 * named portal suspended, and an Execute of a portal by name with no Bind.
 */
class RawConnection {
	constructor(host, port, user, database) {
		this.path = `${host}/.s.PGSQL.${port}`;
		this.user = user;
		this.database = database;
		this.queue = [];
		this.waiting = null;
	}

	async connect() {
		this.socket = net.connect(this.path);
		await new Promise((resolve, reject) => {
			this.socket.once('connect', resolve);
			this.socket.once('error', reject);
		});
		parseMessages(this.socket, msg => {
			this.queue.push(msg);
			if (this.waiting) {
				const w = this.waiting;
				this.waiting = null;
				w();
			}
		});
		this.socket.write(serialize.startup({ user: this.user, database: this.database }));
		await this.until('readyForQuery');
	}

	async next() {
		while (this.queue.length === 0)
			await new Promise(resolve => { this.waiting = resolve; });
		return this.queue.shift();
	}

	/* the messages up to and including the first one named in names */
	async until(...names) {
		const got = [];
		for (;;) {
			const msg = await this.next();
			got.push(msg);
			if (names.includes(msg.name))
				return got;
		}
	}

	/* a simple-protocol query: its rows, or its SQLSTATE */
	async query(sql) {
		this.socket.write(serialize.query(sql));
		return RawConnection.outcome(await this.until('readyForQuery'));
	}

	/* Execute of a portal by name with a row limit, then Flush (no Sync) */
	async execute(portal, rows) {
		this.socket.write(Buffer.concat([serialize.execute({ portal, rows }), serialize.flush()]));
		return RawConnection.outcome(await this.until('portalSuspended', 'commandComplete', 'error'));
	}

	async sync() {
		this.socket.write(serialize.sync());
		return RawConnection.outcome(await this.until('readyForQuery'));
	}

	static outcome(msgs) {
		const err = msgs.find(m => m.name === 'error');
		return {
			code: err ? err.code : null,
			rows: msgs.filter(m => m.name === 'dataRow').map(m => m.fields.map(String).join(':')),
		};
	}

	end() {
		if (this.socket) {
			this.socket.write(serialize.end());
			this.socket.end();
		}
	}
}

/*
 * pgbouncer, transaction mode, one server connection: portals of the
 * extended protocol.  Client A binds a named portal under user 1 and reads
 * one row, then acts as user 2 in the same transaction and executes the
 * portal again; then A declares a held cursor under act_as_local and
 * commits, and client B, next on the server connection, executes it by
 * name.
 */
async function testPortals() {
	const cSuspended = new Check('portals (R24): a named portal suspended under one identity is not executed further under another');
	const cHeld = new Check('portals (R24): a cursor held past an act_as_local transaction is not reachable by the next client\'s Execute by name');
	const a = new RawConnection(opts.appHost, opts.appPort, APP_ROLE, opts.singleDatabase);
	const b = new RawConnection(opts.appHost, opts.appPort, APP_ROLE, opts.singleDatabase);
	const u1 = USERS[0];
	const u2 = USERS[31];
	const want1 = expectedRows(u1);
	try {
		await a.connect();
		await b.connect();

		await a.query('BEGIN');
		await a.query(`SELECT tenancy.act_as_local(${u1.id})`);
		a.socket.write(Buffer.concat([
			serialize.parse({ text: ROWS_SQL }),
			serialize.bind({ portal: 'regress_portal' }),
		]));
		const first = await a.execute('regress_portal', 1);
		cSuspended.expect(first.code === null && first.rows.length === 1 && first.rows[0] === want1[0],
			`A's first row: ${first.rows} (SQLSTATE ${first.code}), expected ${want1[0]}`);
		const switched = await a.query(`SELECT tenancy.act_as_local(${u2.id})`);
		cSuspended.expect(switched.code === null, `act_as_local of the second user: SQLSTATE ${switched.code}`);
		const rest = await a.execute('regress_portal', 0);
		cSuspended.expect(rest.code !== null && rest.rows.length === 0,
			`after act_as_local of ${u2.email} the portal gave ${rest.rows.length} more rows of ${u1.email} (SQLSTATE ${rest.code})`);
		await a.sync();
		await a.query('ROLLBACK');

		await a.query('BEGIN');
		await a.query(`SELECT tenancy.act_as_local(${u1.id})`);
		await a.query(`DECLARE regress_held_portal CURSOR WITH HOLD FOR ${ROWS_SQL}`);
		const pidA = (await a.query('SELECT pg_backend_pid()')).rows[0];
		await a.query('COMMIT');
		const pidB = (await b.query('SELECT pg_backend_pid()')).rows[0];
		cHeld.expect(pidA === pidB, `A ran on backend ${pidA}, B on ${pidB}`);
		const stolen = await b.execute('regress_held_portal', 0);
		await b.sync();
		cHeld.expect(stolen.code === '34000' && stolen.rows.length === 0,
			`B's Execute of A's held cursor gave ${stolen.rows.length} rows (SQLSTATE ${stolen.code}, expected 34000)`);
		const after = await b.query(AFTER_SQL);
		cHeld.expect(after.code === null && after.rows.length === 1 && after.rows[0].startsWith('null:0:'),
			`B without identity afterwards: ${after.rows} (SQLSTATE ${after.code})`);
	} catch (e) {
		cSuspended.fail(`unexpected error: ${e.message}`);
	} finally {
		a.end();
		b.end();
	}
	cSuspended.report();
	cHeld.report();
}

/*
 * A driver that closes statements it prepared with SQL by the protocol's
 * Close (no DEALLOCATE, so no hook sees it): tenancy notes who prepared each
 * statement (R4: a statement runs only under the identity that prepared
 * it) and must not keep the owners of closed ones without bound.  Read as
 * the superuser, who alone reads pg_backend_memory_contexts.
 */
async function testPreparedOwners() {
	const c = new Check('prepared_owners (R4): the owners of statements prepared with SQL and closed with the protocol\'s Close stay bounded (same memory after 500 and 3,000)');
	const conn = new RawConnection(opts.adminHost, opts.adminPort, 'postgres', opts.database);
	const memory = async () => {
		const r = await conn.query(`SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts
			WHERE 'tenancy prepared statement owners' IN (name, ident)`);
		return Number(r.rows[0]);
	};
	const prepareAndClose = async (from, to) => {
		for (let i = from; i < to; i++) {
			const p = await conn.query(`PREPARE regress_closed_${i} AS SELECT ${i}`);
			if (p.code !== null)
				throw new Error(`PREPARE regress_closed_${i}: SQLSTATE ${p.code}`);
			conn.socket.write(serialize.close({ type: 'S', name: `regress_closed_${i}` }));
			await conn.sync();
		}
	};
	try {
		await conn.connect();
		await conn.query("LOAD 'tenancy'");
		await prepareAndClose(0, 500);
		const after500 = await memory();
		await prepareAndClose(500, 3000);
		const after3000 = await memory();
		c.expect(after500 > 0, 'no memory context of the owners\' table was found');
		c.expect(after3000 === after500,
			`the owners' table grew from ${after500} to ${after3000} bytes`);
		const still = await conn.query(`PREPARE regress_closed_0 AS SELECT 0`);
		c.expect(still.code === null, `a closed name could not be prepared again (SQLSTATE ${still.code})`);
	} catch (e) {
		c.fail(`unexpected error: ${e.message}`);
	} finally {
		conn.end();
	}
	c.report();
}

/*
 * pgbouncer, transaction mode: the login regress_node_pooled carries
 * tenancy.local_identity_only (set by the superuser in setUp), so the
 * session-level act_as that leaked in the control above is refused.
 */
async function testLocalOnly() {
	const c = new Check('local_only (R4): with tenancy.local_identity_only on its role, session-level act_as is refused (42501); act_as_local works; the next client finds no identity and no row');
	const config = { ...appConfig(opts.singleDatabase), user: POOLED_ROLE };
	const a = new pg.Client(config);
	const b = new pg.Client(config);
	const u1 = USERS[0];
	try {
		await a.connect();
		await b.connect();
		const code = await refused(a, 'SELECT tenancy.act_as($1)', [u1.id]);
		c.expect(code === '42501', `session-level act_as gave SQLSTATE ${code}, expected 42501`);
		const leak = (await b.query(AFTER_SQL)).rows[0];
		c.expect(leak.uid === null && Number(leak.n) === 0,
			`after A's refused act_as, B acts as ${leak.uid} and sees ${leak.n} rows`);
		await a.query('BEGIN');
		await a.query('SELECT tenancy.act_as_local($1)', [u1.id]);
		const rows = (await a.query(ROWS_SQL)).rows.map(r => `${r.administration_id}:${r.label}`);
		const pidA = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
		await a.query('COMMIT');
		c.expect(sameList(rows, expectedRows(u1)),
			`act_as_local: A sees ${rows.length} rows, expected ${expectedRows(u1).length}`);
		const next = (await b.query(AFTER_SQL)).rows[0];
		c.expect(next.pid === pidA, `B ran on backend ${next.pid}, not ${pidA}`);
		c.expect(next.uid === null && Number(next.n) === 0,
			`after A's transaction B acts as ${next.uid} and sees ${next.n} rows`);
	} catch (e) {
		c.fail(`unexpected error: ${e.message}`);
	} finally {
		await a.end().catch(() => {});
		await b.end().catch(() => {});
	}
	c.report();
}

async function main() {
	try {
		await setUp();
	} catch (e) {
		bail(`could not set up the fixture: ${e.message}`);
	}
	await testPool();
	await testFailures();
	if (!opts.singleDatabase)
		await testPreparedOwners();
	if (opts.singleDatabase) {
		await testTransactionPool();
		await testLeftovers();
		await testPortals();
		await testLocalOnly();
	}
	console.log(`1..${testsRun}`);
	process.exit(testsFailed === 0 ? 0 : 1);
}

main().catch(e => bail(e.stack || e.message));
