package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// caseChannel is the PostgreSQL notification channel of committed case
// changes. Notifications reach every session listening on the same database.
const caseChannel = "zhizhi_case"

// CaseNotice is one committed change to a case, as another node announced
// it: small on purpose (PostgreSQL caps a payload at 8,000 bytes); the
// listener re-reads the case.
type CaseNotice struct {
	Node    string // the node that made the change
	CaseID  string
	Version int  // the case's version after the change (its step's seq)
	Reload  bool // not a case: reference data (regions, units, categories, calendar) changed
	// Tokens, when not empty, says that sign-in tokens were revoked: the
	// SHA-256 of one token (a sign-out), or "*" (an account's tokens, or an
	// account's details that cached sign-ins carry). Not a case either.
	Tokens string
	// Project, when not empty, names a project that changed (a milestone
	// met, the project verified), with the action and the acting account:
	// the list boards of the other nodes hear it. Not a case either.
	Project, ProjectAction, ProjectActor string
	// Inbox, when not empty, names an account whose notifications changed
	// (notifications.go): its live unread count is sent again.
	Inbox string
}

// NotifyTokens announces, on PostgreSQL, that tokens were revoked (hash, or
// "*" for any), so that every other node forgets what it cached of them
// once the transaction commits, instead of trusting them for up to the
// token cache's lifetime.
func (t *Tx) NotifyTokens(ctx context.Context, node, hash string) error {
	if t.dialect != Postgres {
		return nil
	}
	if hash == "" || strings.ContainsAny(hash, " \t\n") {
		return fmt.Errorf("notify tokens: bad hash %q", hash)
	}
	t.notices = append(t.notices, node+" tokens "+hash)
	return nil
}

// NotifyProject announces, on PostgreSQL, that this transaction changed a
// project, for the other nodes' list boards; sent only if and when the
// transaction commits. On SQLite (one process) it does nothing.
func (t *Tx) NotifyProject(ctx context.Context, node, projectID, action, actorID string) error {
	if t.dialect != Postgres {
		return nil
	}
	for _, v := range []string{projectID, action, actorID} {
		if v == "" || strings.ContainsAny(v, " \t\n/") {
			return fmt.Errorf("notify project: bad field %q", v)
		}
	}
	t.notices = append(t.notices, node+" project "+projectID+"/"+action+"/"+actorID)
	return nil
}

// NotifyReload announces, on PostgreSQL, that reference data changed, so
// every other node reloads its caches once the transaction commits.
func (t *Tx) NotifyReload(ctx context.Context, node string) error {
	if t.dialect != Postgres {
		return nil
	}
	t.notices = append(t.notices, node+" reload 0")
	return nil
}

// NotifyCase announces, on PostgreSQL, that this transaction changed a case;
// the notice is delivered to every listening node only if and when the
// transaction commits. On SQLite (one process) it does nothing.
func (t *Tx) NotifyCase(ctx context.Context, node, caseID string, version int) error {
	if t.dialect != Postgres {
		return nil
	}
	// Sent by the writer with the batch's other notices, only for jobs that
	// succeed (see batcher.attempt).
	t.notices = append(t.notices, node+" "+caseID+" "+strconv.Itoa(version))
	return nil
}

func parseNotice(payload string) (CaseNotice, bool) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return CaseNotice{}, false
	}
	if f[1] == "reload" {
		return CaseNotice{Node: f[0], Reload: true}, true
	}
	if f[1] == "project" {
		p := strings.Split(f[2], "/")
		if len(p) != 3 {
			return CaseNotice{}, false
		}
		return CaseNotice{Node: f[0], Project: p[0], ProjectAction: p[1], ProjectActor: p[2]}, true
	}
	if f[1] == "inbox" {
		return CaseNotice{Node: f[0], Inbox: f[2]}, true
	}
	if f[1] == "tokens" {
		return CaseNotice{Node: f[0], Tokens: f[2]}, true
	}
	v, err := strconv.Atoi(f[2])
	if err != nil {
		return CaseNotice{}, false
	}
	return CaseNotice{Node: f[0], CaseID: f[1], Version: v}, true
}

// ListenCases delivers the case notices of every node (this one included)
// to fn until ctx ends, on a dedicated PostgreSQL connection. When the
// connection breaks it reconnects, with a pause that grows to 5 seconds, and
// calls gap (if not nil) once listening again, since notices sent meanwhile
// are lost. On SQLite it returns at once: there is only one process.
func (db *DB) ListenCases(ctx context.Context, fn func(CaseNotice), gap func(error)) error {
	if db.Dialect != Postgres {
		return nil
	}
	wait := 100 * time.Millisecond
	var broken error
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, fn, func() {
			if broken != nil && gap != nil {
				gap(broken)
			}
			broken = nil
			wait = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			break
		}
		broken = err
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	return nil
}

// listenOnce holds one listening connection until it fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, fn func(CaseNotice), listening func()) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+caseChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
		if cn, ok := parseNotice(n.Payload); ok {
			fn(cn)
		}
	}
}

// SearchWarning returns, on PostgreSQL, a warning when pg_trgm cannot index
// Chinese text in this database: with LC_CTYPE "C" it treats CJK characters
// as separators, so searches stay correct (ILIKE rechecks every row) but
// read every case. It returns "" when all is well, and always on SQLite.
func (db *DB) SearchWarning(ctx context.Context) (string, error) {
	if db.Dialect != Postgres {
		return "", nil
	}
	var n int
	var ctype string
	err := db.read.QueryRowContext(ctx, `SELECT cardinality(show_trgm('解放碑步行街')), current_setting('lc_ctype')`).Scan(&n, &ctype)
	if err != nil {
		return "", fmt.Errorf("check trigram index: %w", translate(err))
	}
	if n == 0 {
		return "pg_trgm ignores Chinese characters with LC_CTYPE " + ctype +
			": searches read every case; create the database with LC_CTYPE 'C.UTF-8' (or zh_CN.UTF-8) and copy the data over", nil
	}
	return "", nil
}
