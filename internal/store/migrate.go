package store

import (
	"context"
	"fmt"
	"strings"
)

// migration is one numbered schema step. Common SQL runs on both engines;
// SQLite and Postgres hold what differs. Migrations are append-only: never
// edit one that has shipped, add the next number.
type migration struct {
	common   string
	sqlite   string
	postgres string
}

// Times are stored as BIGINT milliseconds since the Unix epoch (UTC) on both
// engines, so comparisons and keyset pagination are the same SQL everywhere.
var migrations = []migration{
	1: {
		common: `
CREATE TABLE regions (
	code        TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	level       TEXT NOT NULL,
	parent_code TEXT NOT NULL DEFAULT '',
	path        TEXT NOT NULL UNIQUE,
	shape       TEXT NOT NULL DEFAULT '',
	min_lng     DOUBLE PRECISION, min_lat DOUBLE PRECISION,
	max_lng     DOUBLE PRECISION, max_lat DOUBLE PRECISION,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_code);
CREATE INDEX regions_level ON regions(level);

CREATE TABLE units (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL,
	region_path TEXT NOT NULL,
	active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE categories (
	code   TEXT PRIMARY KEY,
	active INTEGER NOT NULL DEFAULT 1,
	doc    TEXT NOT NULL
);

CREATE TABLE accounts (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	region_path   TEXT NOT NULL DEFAULT '',
	unit_id       TEXT NOT NULL DEFAULT '',
	phone         TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	active        INTEGER NOT NULL DEFAULT 1,
	created_at    BIGINT NOT NULL
);

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id),
	kind       TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX tokens_account ON tokens(account_id);

CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE cases (
	id               TEXT PRIMARY KEY,
	number           TEXT NOT NULL UNIQUE,
	version          INTEGER NOT NULL,
	state            TEXT NOT NULL,
	source           TEXT NOT NULL,
	category         TEXT NOT NULL,
	board            TEXT NOT NULL,
	severity         TEXT NOT NULL,
	district_code    TEXT NOT NULL DEFAULT '',
	street_code      TEXT NOT NULL DEFAULT '',
	community_code   TEXT NOT NULL DEFAULT '',
	grid_code        TEXT NOT NULL DEFAULT '',
	region_path      TEXT NOT NULL,
	center_path      TEXT NOT NULL,
	lng              DOUBLE PRECISION,
	lat              DOUBLE PRECISION,
	reporter_account TEXT NOT NULL DEFAULT '',
	reported_at      BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	closed_at        BIGINT,
	due_at           BIGINT,
	was_overdue      INTEGER NOT NULL DEFAULT 0,
	body             TEXT NOT NULL DEFAULT '',
	client_ref       TEXT NOT NULL DEFAULT '',
	doc              TEXT NOT NULL
);
-- A phone that sends the same report again (offline queue, retries) gets the
-- case it already made.
CREATE UNIQUE INDEX cases_client_ref ON cases(reporter_account, client_ref) WHERE client_ref <> '';
-- Few indexes on purpose: every one costs pages written at each report.
-- Listings walk a level's index in ID order (overdue and open cases are a
-- few percent of any history, so a page of them is found quickly); only a
-- category's overdue cases, a rarer mix, have their own partial index.
CREATE INDEX cases_district ON cases(district_code, id);
CREATE INDEX cases_street ON cases(street_code, id);
CREATE INDEX cases_community ON cases(community_code, id);
CREATE INDEX cases_category_due ON cases(category, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_grid ON cases(grid_code, id);
CREATE INDEX cases_reported ON cases(reported_at);
CREATE INDEX cases_reporter ON cases(reporter_account, id);
CREATE INDEX cases_point ON cases(lng, lat);
CREATE INDEX cases_open_point ON cases(lng, lat) WHERE closed_at IS NULL;

CREATE TABLE case_units (
	case_id TEXT NOT NULL REFERENCES cases(id),
	unit_id TEXT NOT NULL,
	role    TEXT NOT NULL,
	state   TEXT NOT NULL,
	PRIMARY KEY (case_id, unit_id)
);
CREATE INDEX case_units_unit ON case_units(unit_id, case_id);

CREATE TABLE case_people (
	case_id    TEXT NOT NULL REFERENCES cases(id),
	account_id TEXT NOT NULL,
	PRIMARY KEY (case_id, account_id)
);
CREATE INDEX case_people_account ON case_people(account_id, case_id);

CREATE TABLE steps (
	id      TEXT PRIMARY KEY,
	case_id TEXT NOT NULL REFERENCES cases(id),
	seq     INTEGER NOT NULL,
	at      BIGINT NOT NULL,
	action  TEXT NOT NULL,
	doc     TEXT NOT NULL,
	UNIQUE (case_id, seq)
);

CREATE TABLE clocks (
	case_id      TEXT NOT NULL REFERENCES cases(id),
	key          TEXT NOT NULL,
	due_at       BIGINT NOT NULL,
	yellow_at    BIGINT NOT NULL,
	escalate_at  BIGINT NOT NULL,
	yellow_fired INTEGER NOT NULL DEFAULT 0,
	red_fired    INTEGER NOT NULL DEFAULT 0,
	escalated    INTEGER NOT NULL DEFAULT 0,
	next_at      BIGINT, -- the first event not yet fired (yellow, red, escalate), NULL when none is left
	PRIMARY KEY (case_id, key)
);
CREATE INDEX clocks_next ON clocks(next_at) WHERE next_at IS NOT NULL;
`,
		sqlite: `
CREATE VIRTUAL TABLE case_fts USING fts5(body, content='cases', tokenize='trigram');
`,
		postgres: `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE regions ALTER COLUMN path TYPE TEXT COLLATE "C";
ALTER TABLE cases ALTER COLUMN region_path TYPE TEXT COLLATE "C";
ALTER TABLE cases ALTER COLUMN center_path TYPE TEXT COLLATE "C";
CREATE INDEX cases_body_trgm ON cases USING gin (body gin_trgm_ops);
`,
	},
	// 2: Open311 API keys (issue 5). A key's secret is never stored, only its
	// SHA-256; a name is unique among the keys not revoked. cases_updated
	// serves Open311's updated_after/updated_before and its update feed.
	2: {
		common: `
CREATE TABLE api_keys (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	hash            TEXT NOT NULL UNIQUE,
	region_path     TEXT NOT NULL,
	rate_per_minute INTEGER NOT NULL,
	created_at      BIGINT NOT NULL,
	revoked_at      BIGINT
);
CREATE UNIQUE INDEX api_keys_name ON api_keys(name) WHERE revoked_at IS NULL;
CREATE INDEX cases_updated ON cases(updated_at);
`,
	},
	// 3: whistle-and-report: account titles for the heads (issue 6).
	3: {
		common: `ALTER TABLE accounts ADD COLUMN title TEXT NOT NULL DEFAULT ''`,
	},
	// 4: a street command center's listings at city scale (issue 4), where
	// the cases no longer fit in memory and each case row read is a disk
	// read. The street index carries what a street's listings filter on
	// (state, category, due time, the searchable text), so they walk the
	// street's newest cases in the index alone (index-only scan, no row
	// reads) and stop at a page: a street's first listing after a cold start
	// went from 150-250 ms to 15-25 ms at p95 on 7.79 million cases. It is
	// the one index a report adds to anyway, only wider. The center's queue (cases
	// reported or accepted, not yet dispatched) is a handful per street
	// among thousands, and listing it read all the street's rows; the
	// partial index holds only those few thousand cases of the city. (A
	// predicate of all open states made PostgreSQL scan the whole partial
	// index for district listings of open cases, 50-80 ms instead of 1.)
	// SQLite has no INCLUDE: its street index holds the filtered columns as
	// trailing keys, a covering index for the same walks (a street of
	// 100,000 cases listing its few reported ones: 230 ms → a few ms).
	4: {
		sqlite: `
DROP INDEX cases_street;
CREATE INDEX cases_street ON cases(street_code, id, state, category, due_at);
`,
		postgres: `
DROP INDEX cases_street;
CREATE INDEX cases_street ON cases (street_code, id) INCLUDE (state, category, due_at, body);
CREATE INDEX cases_center_queue ON cases (street_code, state) WHERE state IN ('reported', 'accepted');
`,
	},
	// 5: the four boards in every street (issue 10). A unit names its board
	// (boards, posts and sections) and its parent (the board a post or
	// section belongs to); the audit trail records every change to reference
	// data (units, categories of the graded classification library,
	// accounts' posts) with who made it and the record before and after.
	5: {
		common: `
ALTER TABLE units ADD COLUMN board TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN parent TEXT NOT NULL DEFAULT '';
CREATE INDEX units_parent ON units(parent);
CREATE TABLE audit (
	id         TEXT PRIMARY KEY,
	at         BIGINT NOT NULL,
	actor_id   TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	kind       TEXT NOT NULL,
	object_id  TEXT NOT NULL,
	action     TEXT NOT NULL,
	before_doc TEXT NOT NULL DEFAULT '',
	after_doc  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_object ON audit(kind, object_id, id);
`,
	},
	// 6: rollups (issue 11): per subject and reporting day, the counts of
	// the evaluation's measures, kept up to date off the intake path from
	// each case's facts; case_facts holds the facts last applied for a case
	// so a change adds only its difference. Both are rebuildable from cases.
	6: {
		common: `
CREATE TABLE rollups (
	kind             TEXT NOT NULL,
	subject          TEXT NOT NULL,
	day              INTEGER NOT NULL,
	reported         INTEGER NOT NULL DEFAULT 0,
	registered       INTEGER NOT NULL DEFAULT 0,
	rejected         INTEGER NOT NULL DEFAULT 0,
	public_verified  INTEGER NOT NULL DEFAULT 0,
	closed           INTEGER NOT NULL DEFAULT 0,
	closed_on_time   INTEGER NOT NULL DEFAULT 0,
	due_close        INTEGER NOT NULL DEFAULT 0,
	on_spot          INTEGER NOT NULL DEFAULT 0,
	rated            INTEGER NOT NULL DEFAULT 0,
	satisfied        INTEGER NOT NULL DEFAULT 0,
	dispatched_tasks INTEGER NOT NULL DEFAULT 0,
	signed_on_time   INTEGER NOT NULL DEFAULT 0,
	handled          INTEGER NOT NULL DEFAULT 0,
	handled_on_time  INTEGER NOT NULL DEFAULT 0,
	handled_late     INTEGER NOT NULL DEFAULT 0,
	due_handle       INTEGER NOT NULL DEFAULT 0,
	reworked         INTEGER NOT NULL DEFAULT 0,
	accepted         INTEGER NOT NULL DEFAULT 0,
	summoned          INTEGER NOT NULL DEFAULT 0,
	report_in_on_time INTEGER NOT NULL DEFAULT 0,
	report_in_late    INTEGER NOT NULL DEFAULT 0,
	report_in_absent  INTEGER NOT NULL DEFAULT 0,
	party_rated       INTEGER NOT NULL DEFAULT 0,
	party_satisfied   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, subject, day)
);
CREATE INDEX rollups_day ON rollups (kind, day);
CREATE TABLE case_facts (
	case_id TEXT PRIMARY KEY,
	doc     TEXT NOT NULL
);
`,
	},
	// 7: rollups at two grains (issue 11, measures): a month of a city's
	// 62,000 grids must not be 30 day rows per grid. Every fact adds to its
	// day row (grain 'd', day = yyyymmdd) and to its month row (grain 'm',
	// day = yyyymm00, a number no real day has); a range reads month rows
	// for its whole months and day rows for the partial months at its
	// edges. The columns are every measure any indicator reads, and the
	// event-day measures of the command board (accepted_day, closed_day).
	// On PostgreSQL the grains are two partitions: a row stays on the page
	// it was written to, and among the day rows a month's rows of 62,000
	// grids lay on 33,000 pages (1.4 s to read); apart, they are a small
	// table of their own (kept with room for in-page updates). Rollups and
	// case_facts are derived data: both are emptied, and deleting the
	// watermark makes the next Roll rebuild them from the cases (case_facts
	// now holds a compact document, see store/rollups.go).
	7: {
		common: `
DROP TABLE rollups;
DELETE FROM case_facts;
DELETE FROM settings WHERE key = 'rollup_watermark';
`,
		sqlite: `
CREATE TABLE rollups (
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	day     INTEGER NOT NULL,
	grain   TEXT NOT NULL,
	reported           INTEGER NOT NULL DEFAULT 0,
	registered         INTEGER NOT NULL DEFAULT 0,
	rejected           INTEGER NOT NULL DEFAULT 0,
	public_verified    INTEGER NOT NULL DEFAULT 0,
	closed             INTEGER NOT NULL DEFAULT 0,
	closed_on_time     INTEGER NOT NULL DEFAULT 0,
	due_close          INTEGER NOT NULL DEFAULT 0,
	on_spot            INTEGER NOT NULL DEFAULT 0,
	rated              INTEGER NOT NULL DEFAULT 0,
	satisfied          INTEGER NOT NULL DEFAULT 0,
	dispatched_tasks   INTEGER NOT NULL DEFAULT 0,
	signed_on_time     INTEGER NOT NULL DEFAULT 0,
	handled            INTEGER NOT NULL DEFAULT 0,
	handled_on_time    INTEGER NOT NULL DEFAULT 0,
	handled_late       INTEGER NOT NULL DEFAULT 0,
	due_handle         INTEGER NOT NULL DEFAULT 0,
	reworked           INTEGER NOT NULL DEFAULT 0,
	accepted           INTEGER NOT NULL DEFAULT 0,
	summoned           INTEGER NOT NULL DEFAULT 0,
	report_in_on_time  INTEGER NOT NULL DEFAULT 0,
	report_in_late     INTEGER NOT NULL DEFAULT 0,
	report_in_absent   INTEGER NOT NULL DEFAULT 0,
	party_rated        INTEGER NOT NULL DEFAULT 0,
	party_satisfied    INTEGER NOT NULL DEFAULT 0,
	void               INTEGER NOT NULL DEFAULT 0,
	exempted           INTEGER NOT NULL DEFAULT 0,
	verify_due         INTEGER NOT NULL DEFAULT 0,
	verified_on_time   INTEGER NOT NULL DEFAULT 0,
	registered_on_time INTEGER NOT NULL DEFAULT 0,
	dispatch_due       INTEGER NOT NULL DEFAULT 0,
	dispatched_on_time INTEGER NOT NULL DEFAULT 0,
	redispatched       INTEGER NOT NULL DEFAULT 0,
	closed_by_center   INTEGER NOT NULL DEFAULT 0,
	closed_in_time     INTEGER NOT NULL DEFAULT 0,
	accepted_day       INTEGER NOT NULL DEFAULT 0,
	closed_day         INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, subject, day, grain)
);
CREATE INDEX rollups_day ON rollups (kind, grain, day, subject);
`,
		postgres: `
CREATE TABLE rollups (
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	day     INTEGER NOT NULL,
	grain   TEXT NOT NULL,
	reported           INTEGER NOT NULL DEFAULT 0,
	registered         INTEGER NOT NULL DEFAULT 0,
	rejected           INTEGER NOT NULL DEFAULT 0,
	public_verified    INTEGER NOT NULL DEFAULT 0,
	closed             INTEGER NOT NULL DEFAULT 0,
	closed_on_time     INTEGER NOT NULL DEFAULT 0,
	due_close          INTEGER NOT NULL DEFAULT 0,
	on_spot            INTEGER NOT NULL DEFAULT 0,
	rated              INTEGER NOT NULL DEFAULT 0,
	satisfied          INTEGER NOT NULL DEFAULT 0,
	dispatched_tasks   INTEGER NOT NULL DEFAULT 0,
	signed_on_time     INTEGER NOT NULL DEFAULT 0,
	handled            INTEGER NOT NULL DEFAULT 0,
	handled_on_time    INTEGER NOT NULL DEFAULT 0,
	handled_late       INTEGER NOT NULL DEFAULT 0,
	due_handle         INTEGER NOT NULL DEFAULT 0,
	reworked           INTEGER NOT NULL DEFAULT 0,
	accepted           INTEGER NOT NULL DEFAULT 0,
	summoned           INTEGER NOT NULL DEFAULT 0,
	report_in_on_time  INTEGER NOT NULL DEFAULT 0,
	report_in_late     INTEGER NOT NULL DEFAULT 0,
	report_in_absent   INTEGER NOT NULL DEFAULT 0,
	party_rated        INTEGER NOT NULL DEFAULT 0,
	party_satisfied    INTEGER NOT NULL DEFAULT 0,
	void               INTEGER NOT NULL DEFAULT 0,
	exempted           INTEGER NOT NULL DEFAULT 0,
	verify_due         INTEGER NOT NULL DEFAULT 0,
	verified_on_time   INTEGER NOT NULL DEFAULT 0,
	registered_on_time INTEGER NOT NULL DEFAULT 0,
	dispatch_due       INTEGER NOT NULL DEFAULT 0,
	dispatched_on_time INTEGER NOT NULL DEFAULT 0,
	redispatched       INTEGER NOT NULL DEFAULT 0,
	closed_by_center   INTEGER NOT NULL DEFAULT 0,
	closed_in_time     INTEGER NOT NULL DEFAULT 0,
	accepted_day       INTEGER NOT NULL DEFAULT 0,
	closed_day         INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, subject, day, grain)
) PARTITION BY LIST (grain);
CREATE TABLE rollups_d PARTITION OF rollups FOR VALUES IN ('d');
CREATE TABLE rollups_m PARTITION OF rollups FOR VALUES IN ('m') WITH (fillfactor = 70);
CREATE INDEX rollups_day ON rollups (kind, grain, day, subject);
`,
	},
	// 8: overdue appeals (issue 11): appeals is an index of the appeals in
	// the case documents (one row per appeal, seq its place in the case's
	// list), rewritten from the document in the same write, for the review
	// queue (the rollups column exempted comes with migration 7).
	8: {
		common: `
CREATE TABLE appeals (
	case_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	case_number TEXT NOT NULL,
	unit_id     TEXT NOT NULL,
	state       TEXT NOT NULL,
	center_path TEXT NOT NULL,
	region_path TEXT NOT NULL,
	reason      TEXT NOT NULL,
	asked_by    TEXT NOT NULL,
	asked_at    BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (case_id, seq)
);
CREATE INDEX appeals_state ON appeals (state, asked_at);
CREATE INDEX appeals_unit ON appeals (unit_id, state, asked_at);
`,
	},
	// 9: sign-in locks (issue 20): consecutive failed sign-ins of an
	// account, and until when it is locked after too many. A row exists
	// only while there are failures; a successful sign-in or an
	// administrator's unlock deletes it.
	9: {
		common: `
CREATE TABLE signin_locks (
	account_id   TEXT PRIMARY KEY REFERENCES accounts(id),
	failures     INTEGER NOT NULL,
	last_failure BIGINT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0
);
`,
	},
	// 10: the anonymous doors (issue 20). form_tokens holds the form tokens
	// of the residents' report page that a report has used, until the
	// token expires (a token is good for one report, on every node);
	// cases_held is the center's holding queue (待甄别), usually empty.
	10: {
		common: `
CREATE TABLE form_tokens (
	token      TEXT PRIMARY KEY,
	case_id    TEXT NOT NULL,
	used_at    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX form_tokens_expiry ON form_tokens (expires_at);
CREATE INDEX cases_held ON cases (id) WHERE state = 'held';
`,
	},
	// 11: Open311 in the field (issue 17). client_updates remembers, per
	// API key, the updates a client posted (servicerequestupdates), so a
	// repeated update_id gives the same answer and adds nothing; api_keys
	// gains the opt-in to FixMyStreet's extended statuses. On PostgreSQL
	// steps gain the writing transaction's ID, the order of the updates
	// feed's cursor (the feed reads only below the oldest running
	// transaction, so no later commit can land behind a cursor); rows from
	// before have 0 (a default that rewrites nothing), new rows their own.
	// SQLite has one writer: the rowid is that order already.
	11: {
		common: `
CREATE TABLE client_updates (
	api_key_id TEXT NOT NULL,
	update_id  TEXT NOT NULL,
	case_id    TEXT NOT NULL,
	step_id    TEXT NOT NULL,
	at         BIGINT NOT NULL,
	PRIMARY KEY (api_key_id, update_id)
);
ALTER TABLE api_keys ADD COLUMN extended_statuses INTEGER NOT NULL DEFAULT 0;
`,
		postgres: `
ALTER TABLE steps ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE steps ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX steps_feed ON steps (xid, id);
`,
	},
	// 12: saved filters of the board queue, each person's own (issue 12):
	// a name and the query string of the filter.
	12: {
		common: `
CREATE TABLE saved_filters (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts(id),
	name       TEXT NOT NULL,
	query      TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (account_id, name)
);
`,
	},
	// 13: leaders at the grassroots (issue 13, internal/leaders): pairings,
	// on-site office visits and the cases their problems became, lists and
	// their items, key rectification projects, supervisions, and cadre
	// training (courses, sessions, attendance, postings). Each row keeps
	// the indexed columns beside the whole record as JSON (doc).
	13: {
		common: `
CREATE TABLE leader_pairings (
	id          TEXT PRIMARY KEY,
	leader_id   TEXT NOT NULL,
	region_path TEXT NOT NULL,
	from_at     BIGINT NOT NULL,
	to_at       BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX leader_pairings_leader ON leader_pairings (leader_id);
CREATE INDEX leader_pairings_path ON leader_pairings (region_path);
CREATE TABLE leader_visits (
	id          TEXT PRIMARY KEY,
	leader_id   TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	client_ref  TEXT NOT NULL DEFAULT '',
	region_path TEXT NOT NULL,
	street_code TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX leader_visits_leader ON leader_visits (leader_id, at);
CREATE INDEX leader_visits_at ON leader_visits (at);
CREATE UNIQUE INDEX leader_visits_ref ON leader_visits (recorded_by, client_ref) WHERE client_ref <> '';
CREATE TABLE visit_cases (
	case_id     TEXT PRIMARY KEY,
	visit_id    TEXT NOT NULL,
	leader_id   TEXT NOT NULL,
	street_code TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL
);
CREATE INDEX visit_cases_visit ON visit_cases (visit_id);
CREATE INDEX visit_cases_leader ON visit_cases (leader_id, at);
CREATE TABLE leader_lists (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	owner_id    TEXT NOT NULL,
	region_path TEXT NOT NULL,
	from_at     BIGINT NOT NULL,
	to_at       BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX leader_lists_path ON leader_lists (region_path);
CREATE INDEX leader_lists_owner ON leader_lists (owner_id);
CREATE TABLE list_items (
	list_id  TEXT NOT NULL,
	kind     TEXT NOT NULL,
	ref_id   TEXT NOT NULL,
	added_by TEXT NOT NULL,
	added_at BIGINT NOT NULL,
	PRIMARY KEY (list_id, kind, ref_id)
);
CREATE INDEX list_items_ref ON list_items (ref_id);
CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	region_path TEXT NOT NULL,
	state       TEXT NOT NULL,
	case_id     TEXT NOT NULL DEFAULT '',
	lead_unit   TEXT NOT NULL,
	version     INTEGER NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX projects_path ON projects (region_path);
CREATE INDEX projects_case ON projects (case_id) WHERE case_id <> '';
CREATE TABLE supervisions (
	id            TEXT PRIMARY KEY,
	case_id       TEXT NOT NULL,
	supervisor_id TEXT NOT NULL,
	region_path   TEXT NOT NULL,
	at            BIGINT NOT NULL,
	doc           TEXT NOT NULL
);
CREATE INDEX supervisions_case ON supervisions (case_id);
CREATE INDEX supervisions_supervisor ON supervisions (supervisor_id, at);
CREATE TABLE training_courses (
	id  TEXT PRIMARY KEY,
	doc TEXT NOT NULL
);
CREATE TABLE training_sessions (
	id          TEXT PRIMARY KEY,
	course_id   TEXT NOT NULL,
	region_path TEXT NOT NULL,
	at          BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE TABLE training_attendance (
	session_id  TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	street_code TEXT NOT NULL DEFAULT '',
	unit_id     TEXT NOT NULL DEFAULT '',
	hours       INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	PRIMARY KEY (session_id, account_id)
);
CREATE INDEX training_attendance_account ON training_attendance (account_id, at);
CREATE TABLE cadre_postings (
	id       TEXT PRIMARY KEY,
	cadre_id TEXT NOT NULL,
	from_at  BIGINT NOT NULL,
	doc      TEXT NOT NULL
);
CREATE INDEX cadre_postings_cadre ON cadre_postings (cadre_id, from_at);
`,
		postgres: `
ALTER TABLE leader_pairings ALTER COLUMN region_path TYPE TEXT COLLATE "C";
ALTER TABLE leader_visits ALTER COLUMN region_path TYPE TEXT COLLATE "C";
ALTER TABLE leader_lists ALTER COLUMN region_path TYPE TEXT COLLATE "C";
ALTER TABLE projects ALTER COLUMN region_path TYPE TEXT COLLATE "C";
ALTER TABLE supervisions ALTER COLUMN region_path TYPE TEXT COLLATE "C";
`,
	},
	// 14: enterprise services (issue 14, package enterprise): the registry
	// (indexed by street path and by the liaison and leader who follow
	// it), the accounts of each enterprise's people, the four-colour
	// catalog, requests (one per case, with the follow-up's clocks as
	// columns for the sweep and the figures), policy classes and their
	// sign-ins (one per enterprise and class).
	14: {
		common: `
CREATE TABLE enterprises (
	id          TEXT PRIMARY KEY,
	credit_code TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	region_path TEXT NOT NULL,
	building    TEXT NOT NULL DEFAULT '',
	liaison_id  TEXT NOT NULL,
	leader_id   TEXT NOT NULL,
	key_flag    INTEGER NOT NULL DEFAULT 0,
	active      INTEGER NOT NULL DEFAULT 1,
	doc         TEXT NOT NULL
);
CREATE INDEX enterprises_region ON enterprises (region_path, name);
CREATE INDEX enterprises_liaison ON enterprises (liaison_id);
CREATE INDEX enterprises_leader ON enterprises (leader_id);
CREATE TABLE enterprise_members (
	account_id    TEXT PRIMARY KEY REFERENCES accounts(id),
	enterprise_id TEXT NOT NULL REFERENCES enterprises(id)
);
CREATE INDEX enterprise_members_enterprise ON enterprise_members (enterprise_id);
CREATE TABLE enterprise_services (
	code   TEXT PRIMARY KEY,
	color  TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	doc    TEXT NOT NULL
);
CREATE TABLE enterprise_requests (
	id            TEXT PRIMARY KEY,
	enterprise_id TEXT NOT NULL,
	service       TEXT NOT NULL DEFAULT '',
	color         TEXT NOT NULL DEFAULT '',
	unit_id       TEXT NOT NULL DEFAULT '',
	case_id       TEXT NOT NULL UNIQUE,
	liaison_id    TEXT NOT NULL,
	leader_id     TEXT NOT NULL,
	region_path   TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	contact_due   BIGINT NOT NULL,
	answer_due    BIGINT NOT NULL,
	contacted_at  BIGINT NOT NULL DEFAULT 0,
	answered_at   BIGINT NOT NULL DEFAULT 0,
	escalated_at  BIGINT NOT NULL DEFAULT 0,
	rating        TEXT NOT NULL DEFAULT '',
	doc           TEXT NOT NULL
);
CREATE INDEX enterprise_requests_enterprise ON enterprise_requests (enterprise_id, id);
CREATE INDEX enterprise_requests_liaison ON enterprise_requests (liaison_id, id);
CREATE INDEX enterprise_requests_leader ON enterprise_requests (leader_id, id);
CREATE INDEX enterprise_requests_region ON enterprise_requests (region_path, id);
CREATE INDEX enterprise_requests_pending ON enterprise_requests (answer_due) WHERE escalated_at = 0 AND answered_at = 0;
CREATE TABLE enterprise_classes (
	id          TEXT PRIMARY KEY,
	region_path TEXT NOT NULL,
	at          BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX enterprise_classes_region ON enterprise_classes (region_path, at);
CREATE TABLE class_attendance (
	class_id      TEXT NOT NULL REFERENCES enterprise_classes(id),
	enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
	account_id    TEXT NOT NULL,
	name          TEXT NOT NULL,
	at            BIGINT NOT NULL,
	PRIMARY KEY (class_id, enterprise_id)
);
`,
	},
	// 15: the grid worker's day (issue 15, internal/gridwork). Patrols and
	// household visits, each once per person and client reference (an
	// offline phone's retry stores nothing new); the grid's roster (places,
	// and the people recorded at them until retain_until); each grid's
	// 1+3+N team and patrol plan as one document; the residents' messages
	// through each grid's door (follow_hash: the SHA-256 of the link's key,
	// phone_hash: of the resident's phone). The full record is the JSON
	// doc; the columns are what queries select on.
	15: {
		common: `
CREATE TABLE grid_patrols (
	id         TEXT PRIMARY KEY,
	worker_id  TEXT NOT NULL,
	client_ref TEXT NOT NULL,
	grid_code  TEXT NOT NULL,
	grid_path  TEXT NOT NULL,
	started_at BIGINT NOT NULL,
	doc        TEXT NOT NULL,
	UNIQUE (worker_id, client_ref)
);
CREATE INDEX grid_patrols_grid ON grid_patrols (grid_path, started_at);
CREATE INDEX grid_patrols_worker ON grid_patrols (worker_id, started_at);
CREATE TABLE grid_visits (
	id         TEXT PRIMARY KEY,
	visitor_id TEXT NOT NULL,
	client_ref TEXT NOT NULL,
	grid_code  TEXT NOT NULL,
	grid_path  TEXT NOT NULL,
	place_id   TEXT NOT NULL DEFAULT '',
	at         BIGINT NOT NULL,
	doc        TEXT NOT NULL,
	UNIQUE (visitor_id, client_ref)
);
CREATE INDEX grid_visits_grid ON grid_visits (grid_path, at);
CREATE INDEX grid_visits_visitor ON grid_visits (visitor_id, at);
CREATE TABLE grid_places (
	id         TEXT PRIMARY KEY,
	grid_code  TEXT NOT NULL,
	grid_path  TEXT NOT NULL,
	kind       TEXT NOT NULL,
	name       TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (grid_code, kind, name)
);
CREATE INDEX grid_places_path ON grid_places (grid_path);
CREATE TABLE grid_people (
	id           TEXT PRIMARY KEY,
	place_id     TEXT NOT NULL REFERENCES grid_places(id),
	grid_path    TEXT NOT NULL,
	retain_until BIGINT NOT NULL,
	doc          TEXT NOT NULL
);
CREATE INDEX grid_people_place ON grid_people (place_id);
CREATE INDEX grid_people_retain ON grid_people (retain_until);
CREATE TABLE grid_teams (
	grid_code  TEXT PRIMARY KEY,
	grid_path  TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE grid_plans (
	grid_code  TEXT PRIMARY KEY,
	grid_path  TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE grid_messages (
	id          TEXT PRIMARY KEY,
	grid_code   TEXT NOT NULL,
	grid_path   TEXT NOT NULL,
	follow_hash TEXT NOT NULL UNIQUE,
	phone_hash  TEXT NOT NULL,
	state       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX grid_messages_grid ON grid_messages (grid_path, created_at);
CREATE INDEX grid_messages_phone ON grid_messages (grid_code, phone_hash, state);
`,
	},
	// 16: sensors (issue 16). device_kinds is the kind catalog; devices the
	// registry, with each device's last accepted reading (rules on another
	// node and the silence rule read it); sensor_rules the rules in force
	// and sensor_rule_versions every version ever saved. readings holds the
	// raw readings for the retention period (PostgreSQL: partitioned by day,
	// see PruneReadings), reading_aggs the minute and hour aggregates kept
	// longer, reading_rejects the refused readings counted per device and
	// problem. sensor_incidents is one row per condition of a rule on a
	// subject; at most one is open per rule and subject (the claim that
	// keeps two nodes from opening two cases).
	16: {
		common: `
CREATE TABLE device_kinds (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	unit       TEXT NOT NULL,
	min_value  DOUBLE PRECISION NOT NULL,
	max_value  DOUBLE PRECISION NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE devices (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL REFERENCES device_kinds(code),
	name       TEXT NOT NULL DEFAULT '',
	lng        DOUBLE PRECISION NOT NULL,
	lat        DOUBLE PRECISION NOT NULL,
	grid       TEXT NOT NULL DEFAULT '',
	area       TEXT NOT NULL DEFAULT '',
	risk_point TEXT NOT NULL DEFAULT '',
	unit_id    TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	last_value DOUBLE PRECISION NOT NULL DEFAULT 0,
	last_at    BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL
);
CREATE INDEX devices_kind ON devices (kind, id);
CREATE INDEX devices_area ON devices (area, id);
CREATE TABLE sensor_rules (
	id         TEXT PRIMARY KEY,
	version    INTEGER NOT NULL,
	doc        TEXT NOT NULL,
	active     INTEGER NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE sensor_rule_versions (
	id         TEXT NOT NULL,
	version    INTEGER NOT NULL,
	doc        TEXT NOT NULL,
	actor_id   TEXT NOT NULL,
	at         BIGINT NOT NULL,
	PRIMARY KEY (id, version)
);
CREATE TABLE reading_aggs (
	device  TEXT NOT NULL,
	grain   TEXT NOT NULL,
	bucket  BIGINT NOT NULL,
	n       BIGINT NOT NULL,
	sum_v   DOUBLE PRECISION NOT NULL,
	min_v   DOUBLE PRECISION NOT NULL,
	max_v   DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (device, grain, bucket)
);
CREATE TABLE reading_rejects (
	device  TEXT NOT NULL,
	problem TEXT NOT NULL,
	n       BIGINT NOT NULL,
	last_at BIGINT NOT NULL,
	sample  TEXT NOT NULL,
	PRIMARY KEY (device, problem)
);
CREATE TABLE sensor_incidents (
	id           TEXT PRIMARY KEY,
	rule_id      TEXT NOT NULL,
	rule_version INTEGER NOT NULL,
	subject      TEXT NOT NULL,
	area         TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	opened_at    BIGINT NOT NULL,
	cleared_at   BIGINT NOT NULL DEFAULT 0,
	updated_at   BIGINT NOT NULL,
	value        DOUBLE PRECISION NOT NULL,
	peak         DOUBLE PRECISION NOT NULL,
	case_id      TEXT NOT NULL DEFAULT '',
	doc          TEXT NOT NULL
);
CREATE UNIQUE INDEX sensor_incidents_one_open ON sensor_incidents (rule_id, subject) WHERE state = 'open';
CREATE INDEX sensor_incidents_opened ON sensor_incidents (opened_at);
`,
		sqlite: `
CREATE TABLE readings (
	device TEXT NOT NULL,
	at     BIGINT NOT NULL,
	value  DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (device, at)
) WITHOUT ROWID;
CREATE INDEX readings_at ON readings (at);
`,
		postgres: `
CREATE TABLE readings (
	device TEXT NOT NULL,
	at     BIGINT NOT NULL,
	value  DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (device, at)
) PARTITION BY RANGE (at);
CREATE TABLE readings_default PARTITION OF readings DEFAULT;
`,
	},
	// 17: supervised cases in the evaluation (issue 13): the rollups'
	// columns of the measures supervised and supervised_on_time. Deleting
	// the watermark makes the next Roll rebuild the rollups and case_facts
	// from the cases, so cases rolled before count their supervisions.
	17: {
		common: `
ALTER TABLE rollups ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN supervised_on_time INTEGER NOT NULL DEFAULT 0;
DELETE FROM settings WHERE key = 'rollup_watermark';
`,
	},
	// 18: webhooks and the 12345 hotline (issue 18, docs/webhooks.md).
	// webhook_subs are the subscriptions; webhook_outbox holds one row per
	// subscription and case event not yet delivered, written in the case's
	// own transaction (held rows, like steps) and deleted once the receiver
	// acknowledged it; a worker claims a row by a lease (claim, lease_until).
	// webhook_log keeps each subscription's latest attempts. hotline_orders
	// maps a 12345 work order's number to its case (the number is the key, so
	// an order sent twice makes one case, on any node).
	18: {common: `
CREATE TABLE webhook_subs (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	url           TEXT NOT NULL,
	events        TEXT NOT NULL,
	sources       TEXT NOT NULL DEFAULT '[]',
	region_code   TEXT NOT NULL DEFAULT '',
	region_path   TEXT NOT NULL DEFAULT '',
	unit_id       TEXT NOT NULL DEFAULT '',
	secret        TEXT NOT NULL,
	state         TEXT NOT NULL,
	pause_reason  TEXT NOT NULL DEFAULT '',
	paused_at     BIGINT NOT NULL DEFAULT 0,
	failures      INTEGER NOT NULL DEFAULT 0,
	failing_since BIGINT NOT NULL DEFAULT 0,
	last_ok       BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	created_by    TEXT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE TABLE webhook_outbox (
	sub_id      TEXT NOT NULL,
	case_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	event_id    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	body        TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	next_at     BIGINT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	lease_until BIGINT NOT NULL DEFAULT 0,
	claim       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (sub_id, case_id, seq)
);
CREATE INDEX webhook_outbox_next ON webhook_outbox (next_at);
CREATE TABLE webhook_log (
	id          TEXT PRIMARY KEY,
	sub_id      TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	case_id     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	status      INTEGER NOT NULL,
	ok          INTEGER NOT NULL,
	error       TEXT NOT NULL,
	response    TEXT NOT NULL,
	duration_ms BIGINT NOT NULL,
	node        TEXT NOT NULL
);
CREATE INDEX webhook_log_sub ON webhook_log (sub_id, id);
CREATE TABLE hotline_orders (
	number      TEXT PRIMARY KEY,
	case_id     TEXT NOT NULL UNIQUE,
	key_id      TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	limit_at    BIGINT NOT NULL DEFAULT 0,
	doc         TEXT NOT NULL
);
ALTER TABLE api_keys ADD COLUMN hotline INTEGER NOT NULL DEFAULT 0;
`},
	// 19: big-event operations (issue 16, S3, docs/sensors.md): the operation
	// as a JSON document; one row per area with its crowd level, peak and
	// restoration; one row per prepared task with its release (the
	// conditional update of state is the claim: a task is released once
	// over every node); the timeline.
	19: {
		common: `
CREATE TABLE operations (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	starts_at   BIGINT NOT NULL,
	ends_at     BIGINT NOT NULL,
	region_path TEXT NOT NULL,
	version     INTEGER NOT NULL,
	updated_at  BIGINT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX operations_ends ON operations (ends_at);
CREATE TABLE operation_areas (
	operation_id TEXT NOT NULL,
	area         TEXT NOT NULL,
	level        TEXT NOT NULL DEFAULT 'green',
	value        DOUBLE PRECISION NOT NULL DEFAULT 0,
	since        BIGINT NOT NULL DEFAULT 0,
	peak         DOUBLE PRECISION NOT NULL DEFAULT 0,
	peak_at      BIGINT NOT NULL DEFAULT 0,
	at           BIGINT NOT NULL DEFAULT 0,
	restored_at  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (operation_id, area)
);
CREATE TABLE operation_tasks (
	operation_id  TEXT NOT NULL,
	task_id       TEXT NOT NULL,
	area          TEXT NOT NULL,
	state         TEXT NOT NULL,
	release_at    BIGINT NOT NULL DEFAULT 0,
	case_id       TEXT NOT NULL DEFAULT '',
	released_at   BIGINT NOT NULL DEFAULT 0,
	dispatched_at BIGINT NOT NULL DEFAULT 0,
	done_at       BIGINT NOT NULL DEFAULT 0,
	error         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (operation_id, task_id)
);
CREATE TABLE operation_events (
	id           TEXT PRIMARY KEY,
	operation_id TEXT NOT NULL,
	at           BIGINT NOT NULL,
	kind         TEXT NOT NULL,
	area         TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL,
	case_id      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operation_events_op ON operation_events (operation_id, at);
`,
	},
	// 20: notifications to people (issue 18, package notify). notify_events
	// is the outbox: one row per event, written (held) in the transaction of
	// the case change or clock event, fanned out later (fanned = 1).
	// notifications are the inboxes (one row per person and event, so a
	// fan-out run again adds nothing), notify_prefs each person's choices,
	// push_subs the Web Push subscriptions, notify_deliveries each push or
	// SMS to send, claimed by lease (next_at) so one node sends it.
	20: {
		common: `
CREATE TABLE notify_events (
	id      TEXT PRIMARY KEY,
	case_id TEXT NOT NULL DEFAULT '',
	at      BIGINT NOT NULL,
	fanned  INTEGER NOT NULL DEFAULT 0,
	doc     TEXT NOT NULL
);
CREATE INDEX notify_events_pending ON notify_events (id) WHERE fanned = 0;
CREATE TABLE notifications (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	event_id   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	case_id    TEXT NOT NULL DEFAULT '',
	urgent     INTEGER NOT NULL DEFAULT 0,
	at         BIGINT NOT NULL,
	read_at    BIGINT NOT NULL DEFAULT 0,
	doc        TEXT NOT NULL,
	UNIQUE (account_id, event_id)
);
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE INDEX notifications_unread ON notifications (account_id) WHERE read_at = 0;
CREATE TABLE notify_prefs (
	account_id TEXT PRIMARY KEY,
	doc        TEXT NOT NULL
);
CREATE TABLE push_subs (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	endpoint   TEXT NOT NULL,
	p256dh     TEXT NOT NULL,
	auth       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX push_subs_account ON push_subs (account_id);
CREATE TABLE notify_deliveries (
	id         TEXT PRIMARY KEY,
	event_id   TEXT NOT NULL,
	account_id TEXT NOT NULL DEFAULT '',
	channel    TEXT NOT NULL,
	target     TEXT NOT NULL,
	state      TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    BIGINT NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    BIGINT NOT NULL DEFAULT 0,
	doc        TEXT NOT NULL,
	UNIQUE (event_id, channel, target)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_at) WHERE state = 'pending';
`,
	},
	// 21: the party-building board's people in the grid (双报到, issue 15,
	// internal/gridwork/party.go): in-service party members reported to a
	// community (one registration per community and phone), the community's
	// volunteer groups, the service hours per member and activity (with the
	// case if any, on_day YYYY-MM-DD), and the cases given to a volunteer
	// group as co-handler (once per case and group; the case's step is the
	// record of the case loop, this row what the figures count).
	21: {
		common: `
CREATE TABLE party_members (
	id             TEXT PRIMARY KEY,
	community_code TEXT NOT NULL,
	community_path TEXT NOT NULL,
	grid_code      TEXT NOT NULL DEFAULT '',
	phone          TEXT NOT NULL,
	reported_on    TEXT NOT NULL,
	doc            TEXT NOT NULL,
	UNIQUE (community_code, phone)
);
CREATE INDEX party_members_path ON party_members (community_path);
CREATE TABLE volunteer_groups (
	id             TEXT PRIMARY KEY,
	community_code TEXT NOT NULL,
	community_path TEXT NOT NULL,
	name           TEXT NOT NULL,
	doc            TEXT NOT NULL,
	UNIQUE (community_code, name)
);
CREATE INDEX volunteer_groups_path ON volunteer_groups (community_path);
CREATE TABLE service_hours (
	id             TEXT PRIMARY KEY,
	member_id      TEXT NOT NULL REFERENCES party_members(id),
	community_path TEXT NOT NULL,
	on_day         TEXT NOT NULL,
	case_id        TEXT NOT NULL DEFAULT '',
	doc            TEXT NOT NULL
);
CREATE INDEX service_hours_path ON service_hours (community_path, on_day);
CREATE INDEX service_hours_member ON service_hours (member_id, on_day);
CREATE TABLE volunteer_cases (
	case_id        TEXT NOT NULL,
	group_id       TEXT NOT NULL REFERENCES volunteer_groups(id),
	community_path TEXT NOT NULL,
	step_id        TEXT NOT NULL,
	at             BIGINT NOT NULL,
	PRIMARY KEY (case_id, group_id)
);
CREATE INDEX volunteer_cases_path ON volunteer_cases (community_path, at);
`,
	},
	// 22: the webhook fan-out (issue 18, docs/webhooks.md): a case change
	// writes one webhook_events row per step that some subscription takes,
	// in its own transaction; the delivery loop's fan-out turns events into
	// webhook_outbox rows (one per subscription that takes it, matching the
	// facts kept here: kind, source, region, the units with a task) and
	// deletes the events in the same transaction. units is " u1 u2 ".
	// webhook_outbox_due serves the claim's order (next_at, sub_id,
	// case_id) from the index, so a claim reads the first due rows instead
	// of sorting the whole outbox.
	22: {
		common: `
CREATE TABLE webhook_events (
	case_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	event_id    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	source      TEXT NOT NULL,
	region_path TEXT NOT NULL,
	units       TEXT NOT NULL,
	queued_at   BIGINT NOT NULL,
	body        TEXT NOT NULL,
	PRIMARY KEY (case_id, seq)
);
CREATE INDEX webhook_events_queued ON webhook_events (queued_at);
DROP INDEX webhook_outbox_next;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at, sub_id, case_id);
`,
	},
	// 23: a leader's secretaries (issue 13, leaders.Secretary): the accounts
	// that may record visits on that leader's behalf, one row per leader and
	// secretary, with the leader's region for the administrators' scope.
	23: {
		common: `
CREATE TABLE leader_secretaries (
	leader_id    TEXT NOT NULL,
	secretary_id TEXT NOT NULL,
	region_path  TEXT NOT NULL,
	doc          TEXT NOT NULL,
	PRIMARY KEY (leader_id, secretary_id)
);
CREATE INDEX leader_secretaries_secretary ON leader_secretaries (secretary_id);
`,
		postgres: `
ALTER TABLE leader_secretaries ALTER COLUMN region_path TYPE TEXT COLLATE "C";
`,
	},
	// 24: the device list filtered by state (issue 16: at 657,800 devices
	// "silent" scanned the whole table, 1.3 s a page on SQLite).
	24: {
		common: `
CREATE INDEX devices_state ON devices (state, id);
`,
	},
	// 25: the webhook delivery log as a ring (issue 18, docs/webhooks.md):
	// each subscription's latest LogKeep attempts in slots 0…LogKeep−1
	// (its log_seq counts the attempts logged; attempt n goes to slot n mod
	// LogKeep), so a batch's log rows overwrite the oldest in place instead
	// of inserting rows and trimming the oldest. The kept rows move over,
	// the newest in the last slot.
	25: {
		common: `
ALTER TABLE webhook_subs ADD COLUMN log_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE webhook_log_ring (
	sub_id      TEXT NOT NULL,
	slot        INTEGER NOT NULL,
	id          TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	case_id     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	status      INTEGER NOT NULL,
	ok          INTEGER NOT NULL,
	error       TEXT NOT NULL,
	response    TEXT NOT NULL,
	duration_ms BIGINT NOT NULL,
	node        TEXT NOT NULL,
	PRIMARY KEY (sub_id, slot)
);
INSERT INTO webhook_log_ring (sub_id, slot, id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node)
	SELECT sub_id, 100 - rn, id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node
	FROM (SELECT l.*, ROW_NUMBER() OVER (PARTITION BY sub_id ORDER BY id DESC) AS rn FROM webhook_log l) AS r WHERE rn <= 100;
DROP TABLE webhook_log;
ALTER TABLE webhook_log_ring RENAME TO webhook_log;
`,
	},
	// 26: raw readings keyed by time (issue 16). The key (device, at) put
	// every device's readings in its own range, so a commit of readings of
	// 1,000 devices wrote (and, as the table outgrew the cache, read) a
	// B-tree leaf per device, and the ingest rate fell as the table grew.
	// (at, device) keeps the same uniqueness (a redelivered reading is
	// still refused as a replay by the key) while new readings land at the
	// key's end; the retention purge deletes a prefix of it. Nothing reads a
	// device's raw readings in bulk (the device page draws the aggregates),
	// so there is no index by device. SQLite: the table is rebuilt (and the
	// readings_at index, now the key's prefix, goes); PostgreSQL: the
	// partitioned table's key is replaced, on every partition.
	26: {
		sqlite: `
CREATE TABLE readings_by_time (
	device TEXT NOT NULL,
	at     BIGINT NOT NULL,
	value  DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (at, device)
) WITHOUT ROWID;
INSERT INTO readings_by_time (device, at, value) SELECT device, at, value FROM readings ORDER BY at, device;
DROP TABLE readings;
ALTER TABLE readings_by_time RENAME TO readings;
`,
		postgres: `
ALTER TABLE readings DROP CONSTRAINT readings_pkey;
ALTER TABLE readings ADD PRIMARY KEY (at, device);
`,
	},
	// 27: a case as a list shows it (issue 19, cases.Item): written with the
	// document at every change, so a page of cases is read without decoding
	// whole documents. Rows written before are filled by FillItems
	// ('zhizhi migrate'); until then a listing makes their item from the
	// document.
	27: {
		common: `
ALTER TABLE cases ADD COLUMN item TEXT NOT NULL DEFAULT '';
`,
	},
	// 28: statistics upkeep on PostgreSQL (issue 19, store/upkeep.go). With
	// autovacuum's defaults a table is analyzed after 10% of its rows
	// changed and vacuumed after 20% were inserted or updated: at 7.79
	// million cases a flood of 100,000 reports is never analyzed, and the
	// new rows' pages never enter the visibility map that the street
	// listings' index-only scans need. The case tables get thresholds in
	// rows: cases is analyzed after 5,000 + 0.2% changed rows (20,600 at
	// 7.79 M), vacuumed after 5,000 + 1% dead rows and after 10,000 + 0.5%
	// inserted ones; case_units and case_people (the scopes of units and
	// reporters) are analyzed and vacuumed alike. Autovacuum wakes once a
	// minute (autovacuum_naptime), so a flood is analyzed within about a
	// minute of reaching the threshold (and the writer asks for an ANALYZE
	// itself where autovacuum is off or behind, store/upkeep.go).
	// On SQLite a district's overdue cases (the district board's red cards)
	// get a small covering index of the open cases by due time: the
	// overdue ones are one range of it, sorted by ID afterwards, whatever
	// a flood of new (not yet overdue) reports did to the district's index.
	28: {
		sqlite: `
CREATE INDEX cases_overdue ON cases (due_at, district_code, id) WHERE due_at IS NOT NULL;
`,
		postgres: `
ALTER TABLE cases SET (autovacuum_analyze_threshold = 5000, autovacuum_analyze_scale_factor = 0.002,
	autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0.01,
	autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0.005);
ALTER TABLE case_units SET (autovacuum_analyze_threshold = 5000, autovacuum_analyze_scale_factor = 0.002,
	autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0.01,
	autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0.005);
ALTER TABLE case_people SET (autovacuum_analyze_threshold = 5000, autovacuum_analyze_scale_factor = 0.002,
	autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_scale_factor = 0.01,
	autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0.005);
`,
	},
	// 29: the command board's 超期未结 (issue 11): open cases past due now,
	// counted in the viewer's region on every board refresh. Counted
	// through the street or district index, a city's count read every open
	// and closed case of its history (750 ms at 7.79 M cases); this partial
	// index holds the open cases only (a few percent of the history), by
	// region path and due time, so a region's count reads its subtree's
	// open cases in the index alone (store.CountOverdue). The predicate is
	// the open filter's text (SQLite matches a partial index by its terms).
	29: {
		common: `
CREATE INDEX cases_open_due ON cases (region_path, due_at) WHERE closed_at IS NULL AND state <> 'held';
`,
	},
	// 30: each webhook event's body stored once (issue 18, docs/webhooks.md).
	// The fan-out copied an event's body into every subscription's
	// webhook_outbox row (ten copies with ten subscriptions, each rewritten
	// by its claim and removed by its delivery); now the event stays in
	// webhook_events with its body, marked fanned, and the outbox rows are
	// narrow (no body, event ID or kind: the claim reads them from the
	// event), keyed (case_id, sub_id, seq) so that both the order rule (an
	// earlier event of the case and subscription) and the body's retention
	// (any delivery of the event left) read the key; on SQLite the narrow
	// table is WITHOUT ROWID (one B-tree for rows and key instead of two).
	// A delivered event's row goes when its last delivery does. The queued
	// outbox rows move over, their bodies into fanned events (one per
	// event: the copies are equal); the fan-out's index holds only the
	// events not fanned out.
	30: {
		common: `
ALTER TABLE webhook_events ADD COLUMN fanned INTEGER NOT NULL DEFAULT 0;
`,
		sqlite:   narrowOutbox + ") WITHOUT ROWID;\n" + narrowOutboxMove,
		postgres: narrowOutbox + ");\n" + narrowOutboxMove,
	},
	// 31: intake's pages (issue 19). On SQLite every commit writes each
	// page it changed to the log and fsyncs it, so a report costs the pages
	// its rows and index entries land on. cases_open_due's key, the region
	// path, arrives in random order: about one more leaf page written per
	// report (1.2 of 7.8 pages a report from 10,000 to 20,000 cases, 1.5 of
	// 8.8 at 60,000; bench TestIntakePages). On SQLite it gives way to the same open cases ordered by due
	// time first: a new report's due time is its report time plus a limit,
	// so new entries land on the few leaves at the index's end; the report
	// time comes next, for the many reports that share a due time (those
	// of a night, due when the working day starts). The overdue
	// count (store.CountOverdue) reads the range past due now and tests the
	// region path in the index: every scope reads the file's overdue open
	// cases (a district's SQLite file), no longer only its own region's
	// open cases. State and closed_at close the key (closed_at is always
	// NULL in it: one byte) so that the count reads the index alone:
	// SQLite does not take the columns of a partial index's predicate as
	// covered, and cases_open_due's count looked up every overdue row.
	// PostgreSQL keeps cases_open_due: a city's database holds over
	// 100,000 overdue cases (7.79 M cases), which a street's count would
	// then read; its intake's pages were not measured here.
	31: {
		sqlite: `
DROP INDEX IF EXISTS cases_open_due;
CREATE INDEX cases_open_overdue ON cases (due_at, reported_at, region_path, state, closed_at) WHERE closed_at IS NULL AND state <> 'held';
`,
	},
	// 32: a district's overdue cases of one category on PostgreSQL (issue
	// 19, "district + category + overdue"). At 7.79 M cases the planner
	// AND-ed two bitmaps: cases_category_due's few thousand overdue cases
	// of the category in the whole city and cases_district's 91,000 cases
	// of the district (82 ms, 75 of them in the district's bitmap). Keyed
	// by district, category and due time, the district's overdue cases of
	// the category are one range of this partial index (only cases with a
	// running clock: the open ones). SQLite plans the same listing through
	// cases_category_due with the district tested on its rows (a district's
	// file holds one district).
	32: {
		postgres: `
CREATE INDEX cases_district_category_due ON cases (district_code, category, due_at) WHERE due_at IS NOT NULL;
`,
	},
	// 33: the overdue gauge (issue 11, store/gauge.go): red cases per
	// district, kept by the write path, so that a city's or a district's
	// overdue figure reads at most one row a district instead of every
	// overdue open case (132,734 of them in a 7.79 M-case city). Filled
	// from the cases by the rebuild's own statement.
	33: {
		common: `
CREATE TABLE overdue_gauge (
	region_path TEXT PRIMARY KEY,
	n           BIGINT NOT NULL
);
`,
		sqlite:   `INSERT INTO overdue_gauge (region_path, n) ` + sqlGaugeRows(SQLite) + `;`,
		postgres: `INSERT INTO overdue_gauge (region_path, n) ` + sqlGaugeRows(Postgres) + `;`,
	},
	// 34: webhook deliveries by a cursor per subscription (issue 18,
	// docs/webhooks.md). Each event keeps its place in commit order: on
	// SQLite pos, an AUTOINCREMENT key (never reused, so a cursor past a
	// purged event never meets a new one below it; the one writer commits
	// in pos order); on PostgreSQL the writing transaction's ID and pos (a
	// sequence), read like the steps' feed (store.FeedCursor) only below
	// the oldest transaction still running. Each subscription keeps its
	// cursor (the last event it has handled) and a lease (the node that
	// delivers it, until when). The fan-out is gone: webhook_outbox now
	// holds only deliveries that failed (waiting for their retry) and the
	// later events of their case behind them; its rows queued before this
	// migration stay and are sent as before. Events not yet fanned out
	// (fanned = 0) are read by the cursors, which start before them all;
	// fanned-out ones (fanned = 1) are sent from their outbox rows only.
	34: {
		common: `
ALTER TABLE webhook_subs ADD COLUMN cursor_pos BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_subs ADD COLUMN lease_claim TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_subs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
`,
		sqlite: `
ALTER TABLE webhook_subs ADD COLUMN cursor_xid BIGINT NOT NULL DEFAULT 0;
CREATE TABLE webhook_events_pos (
	pos         INTEGER PRIMARY KEY AUTOINCREMENT,
	case_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	event_id    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	source      TEXT NOT NULL,
	region_path TEXT NOT NULL,
	units       TEXT NOT NULL,
	queued_at   BIGINT NOT NULL,
	body        TEXT NOT NULL,
	fanned      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO webhook_events_pos (case_id, seq, event_id, kind, source, region_path, units, queued_at, body, fanned)
	SELECT case_id, seq, event_id, kind, source, region_path, units, queued_at, body, fanned FROM webhook_events ORDER BY queued_at, case_id, seq;
DROP TABLE webhook_events;
ALTER TABLE webhook_events_pos RENAME TO webhook_events;
CREATE UNIQUE INDEX webhook_events_key ON webhook_events (case_id, seq);
`,
		postgres: `
ALTER TABLE webhook_subs ADD COLUMN cursor_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE webhook_events ADD COLUMN pos BIGINT NOT NULL DEFAULT 0;
UPDATE webhook_events e SET pos = r.n FROM (SELECT case_id, seq, ROW_NUMBER() OVER (ORDER BY queued_at, case_id, seq) AS n FROM webhook_events) AS r
	WHERE e.case_id = r.case_id AND e.seq = r.seq;
CREATE SEQUENCE webhook_events_pos_seq OWNED BY webhook_events.pos;
SELECT setval('webhook_events_pos_seq', (SELECT COALESCE(MAX(pos), 0) + 1 FROM webhook_events), false);
ALTER TABLE webhook_events ALTER COLUMN pos SET DEFAULT nextval('webhook_events_pos_seq');
ALTER TABLE webhook_events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE webhook_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX webhook_events_order ON webhook_events (xid, pos);
DROP INDEX webhook_events_queued;
`,
	},
	// 35: a district's overdue cases on PostgreSQL (issue 19, "district +
	// overdue" under a flood of new reports). The planner walked the
	// district's cases newest first (cases_district), reading each row for
	// its due time; a flood's new reports, none of them due yet, come
	// first, and the walk read them all (2 ms at p50 before 100,000 new
	// reports at 7.79 M cases, 15 ms after, 29 ms at p95). Keyed by
	// district and due time, with the ID beside, the district's overdue
	// cases are one range of this partial index (open cases with a running
	// clock only), read in the index alone, whose IDs are then sorted: new
	// reports are not in the range at all, and the range is as long as the
	// district's overdue cases, whatever the statistics say. SQLite has
	// cases_overdue (migration 28) for the same listing. (IF NOT EXISTS:
	// the benchmark city got the index by hand before this migration.)
	35: {
		postgres: `
CREATE INDEX IF NOT EXISTS cases_district_due ON cases (district_code, due_at) INCLUDE (id) WHERE due_at IS NOT NULL;
`,
	},
	36: {}, // unused: the number was given to a branch that needed no migration
	// 37: a district's listings read its index alone on PostgreSQL (issue
	// 19, "district + text" and "district + category" at 7.79 M cases).
	// cases_district held the district and the ID only: a district's text
	// window (store.textWindow: its newest 4,000 cases, each tested for the
	// word) and a category's newest page (about 40 × 50 of the district's
	// newest cases tested for the category) fetched every row tested from
	// the heap, a district's rows lying one or two to a page among the
	// city's (12–14 ms at p50, 21–25 at p95 before a flood; after a flood,
	// with the pages it pushed out of memory, 38 ms). The same key with the
	// columns those tests read beside it, as cases_street has had since
	// migration 4 (state, category, due time, text), makes both walks
	// index-only where the visibility map marks the pages all-visible (the
	// writer's upkeep vacuums, store/upkeep.go); every other listing that
	// reads cases_district reads the same key. It replaces cases_district.
	// (IF NOT EXISTS: a large installation builds it first with CREATE
	// INDEX CONCURRENTLY, docs/operations.md.) SQLite's district file
	// holds one district: nothing changes there.
	37: {
		postgres: `
CREATE INDEX IF NOT EXISTS cases_district_cover ON cases (district_code, id) INCLUDE (state, category, due_at, body);
DROP INDEX IF EXISTS cases_district;
`,
	},
	// 38: a district's text listings on SQLite read the index alone (issue
	// 19, text search under load). A word shorter than a trigram, or too
	// common for the trigram index, is found by walking the district's
	// cases newest first and testing each one's text (textPlan): one seek
	// into the table a case, from the root to the case's leaf, for the
	// 800-2,000 cases a listing walks (50-60% of a listing's CPU at 250,000
	// cases, docs/benchmarks-journal.md 1c). The district index carries the text as
	// its last key column (SQLite has no INCLUDE; the ID before it is
	// unique, so the text never orders anything), and the walk tests it in
	// the index. It replaces the index of the same prefix, so a report
	// still writes one district entry, at the index's end: longer (the
	// text, about 150 bytes since a report's note is no longer written
	// twice), not one more page. PostgreSQL tests the text in its own
	// window (textWindow) and keeps its index.
	//
	// And a new report writes one point entry on SQLite, not two (issue
	// 19, intake pages): cases_point (every case) and cases_open_point
	// (open cases) took about one random leaf each a report (1.09 pages a
	// report each at 40,000-60,000 cases). cases_point becomes
	// cases_closed_point, the closed cases only; a map of open cases reads
	// cases_open_point as before, a box over every case reads both ranges
	// and merges them (caseWhere). A case written closed (solved on the
	// spot) still writes one entry; closing a case now writes an entry in
	// the closed index where it only removed one from the open index.
	38: {
		sqlite: `
DROP INDEX IF EXISTS cases_district;
CREATE INDEX cases_district ON cases(district_code, id, body);
DROP INDEX IF EXISTS cases_point;
CREATE INDEX cases_closed_point ON cases(lng, lat) WHERE closed_at IS NOT NULL;
`,
	},
	// 39: a case with a long text is written on PostgreSQL. The text
	// (body) is an INCLUDE column of cases_street (migration 4) and
	// cases_district_cover (37), and a btree entry holds at most 2,704
	// bytes: a report with about 900 varied Chinese characters, or a case
	// whose notes grew as long, was refused ("index row requires … bytes,
	// maximum size is 8191"). A text longer than MaxInlineBody bytes is
	// now written to body_long and body is NULL (search.go, bodyCols); the
	// listings still read the short texts in those indexes alone and look
	// a long one up by ID (pgBodyContains). No row moves: every text
	// written so far fit. The long texts' trigram index is partial (the
	// rows with one only); case_long_text reads a case's long text by ID
	// for the walks (pgBodyContains: declared cheap, as it is called for
	// the rare NULL body only). SQLite has no such limit (an index entry
	// spills to overflow pages): it gets the column for the shared write
	// statements and never fills it. (IF NOT EXISTS: a large installation
	// builds the index first with CREATE INDEX CONCURRENTLY,
	// docs/operations.md.)
	39: {
		sqlite: `
ALTER TABLE cases ADD COLUMN body_long TEXT;
`,
		postgres: `
ALTER TABLE cases ALTER COLUMN body DROP NOT NULL;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS body_long TEXT;
CREATE INDEX IF NOT EXISTS cases_body_long_trgm ON cases USING gin (body_long gin_trgm_ops) WHERE body_long IS NOT NULL;
CREATE OR REPLACE FUNCTION case_long_text(case_id TEXT) RETURNS TEXT LANGUAGE sql STABLE PARALLEL SAFE COST 1
	AS 'SELECT body_long FROM cases WHERE id = case_id';
`,
	},
	// 40: a street's text listings on SQLite read the index alone (issue
	// 19, street + text at 1 M cases: 14-15 ms at p50, 22-33 at p95). A
	// street's walk tested each case's text in its row, one table page a
	// case, for the hundreds to thousands of cases a listing walks.
	// cases_street carries the text as its last key column, as
	// cases_district does since migration 38 (and PostgreSQL's since
	// migration 4); a report still writes one street entry, longer.
	// A wider street index would make the center's queue (a street's
	// reported or accepted cases, about a hundred among 110,000) a longer
	// walk: a street's listing of those states reads cases_queue, the open
	// queue's IDs and streets (a partial index of a few thousand entries
	// in a district, a new report's entry at its end), as PostgreSQL's
	// cases_center_queue does for it.
	40: {
		sqlite: `
DROP INDEX IF EXISTS cases_street;
CREATE INDEX cases_street ON cases(street_code, id, state, category, due_at, body);
CREATE INDEX cases_queue ON cases(id, street_code) WHERE state IN ('reported', 'accepted');
`,
	},
	// 41: the events queued before migration 34 as outbox rows (fanned)
	// are purged without walking the events table: every other event goes
	// once the lowest cursor has passed it, and the purge's walk stops
	// there (store.PurgeHookEvents), but no cursor has to pass these.
	41: {
		sqlite:   `CREATE INDEX webhook_events_fanned ON webhook_events (pos) WHERE fanned = 1`,
		postgres: `CREATE INDEX webhook_events_fanned ON webhook_events (xid, pos) WHERE fanned = 1`,
	},
	// 42: a board's queue of open cases sorted by report time, due time or
	// urgency reads SQLite's partial index of the open cases alone
	// (caseWhere's openQueue): the index carries the urgency and the ID
	// after its keys, so the region's open cases are sorted without a
	// table row each (a district's 21,988 at 1 M cases). Before, the
	// queue walked the region's level index and every case of its
	// history (3.2 s). A report writes the same one entry, longer.
	42: {
		sqlite: `
DROP INDEX IF EXISTS cases_open_overdue;
CREATE INDEX cases_open_overdue ON cases (due_at, reported_at, region_path, state, closed_at, severity, id) WHERE closed_at IS NULL AND state <> 'held';
`,
	},
	// 43: a district's dashboard on SQLite reads its period from an index
	// alone: the district and the report time, then every column the
	// dashboard groups, filters and counts by (CaseStatsBy). Before, it
	// walked cases_reported and read each case of the period from the
	// table (a year of a 1 M-case district: about 500,000 rows, 2.5 s). A
	// report appends one entry after the district's newest; a step that
	// changes the state or the times rewrites the case's entry in place
	// (the keys before them do not change).
	43: {
		sqlite: `CREATE INDEX cases_district_period ON cases (district_code, reported_at, state, board, category, street_code, was_overdue, closed_at, due_at)`,
	},
}

// empty is a slot reserved for work in progress.
func (m migration) empty() bool { return m.common == "" && m.sqlite == "" && m.postgres == "" }

// Version is the newest schema version this build knows: the last
// migration with content (an empty slot is reserved for work in progress and
// is never recorded as applied).
func Version() int {
	v := len(migrations) - 1
	for v > 0 && migrations[v].empty() {
		v--
	}
	return v
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if db.Dialect == Postgres {
		// Several nodes may start at once: one migrates, the others wait.
		if _, err := db.write.ExecContext(ctx, `SELECT pg_advisory_lock(7242001)`); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		defer db.write.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7242001)`)
	}
	// Every known version not yet recorded is applied, in order: not only
	// those above the highest recorded, so that a version merged after a
	// later one (branches meet out of order) still runs.
	applied := map[int]bool{}
	rows, err := db.write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	have := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema version: %w", err)
		}
		applied[v], have = true, max(have, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > Version() {
		return fmt.Errorf("database schema version %d is newer than this build (%d)", have, Version())
	}
	for v := 1; v <= Version(); v++ {
		if applied[v] {
			continue
		}
		m := migrations[v]
		if m.empty() {
			// A slot reserved for work in progress: recorded as applied,
			// its statements would never run once they are written.
			continue
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		extra := m.sqlite
		if db.Dialect == Postgres {
			extra = m.postgres
		}
		for _, stmt := range splitSQL(m.common + extra) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w\n%s", v, err, stmt)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)`, v, nowMillis()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

func splitSQL(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, strings.TrimSuffix(p, ";"))
		}
	}
	return out
}

// narrowOutbox and narrowOutboxMove are migration 30's outbox, around the
// engines' table options.
const (
	narrowOutbox = `
CREATE TABLE webhook_outbox_narrow (
	case_id     TEXT NOT NULL,
	sub_id      TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	created_at  BIGINT NOT NULL,
	next_at     BIGINT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	lease_until BIGINT NOT NULL DEFAULT 0,
	claim       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (case_id, sub_id, seq)
`
	narrowOutboxMove = `
INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body, fanned)
	SELECT case_id, seq, MIN(event_id), MIN(kind), '', '', ' ', MIN(created_at), MIN(body), 1 FROM webhook_outbox GROUP BY case_id, seq;
INSERT INTO webhook_outbox_narrow (case_id, sub_id, seq, created_at, next_at, attempts, lease_until, claim)
	SELECT case_id, sub_id, seq, created_at, next_at, attempts, lease_until, claim FROM webhook_outbox;
DROP TABLE webhook_outbox;
ALTER TABLE webhook_outbox_narrow RENAME TO webhook_outbox;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at, sub_id, case_id);
DROP INDEX webhook_events_queued;
CREATE INDEX webhook_events_queued ON webhook_events (queued_at) WHERE fanned = 0;
`
)
