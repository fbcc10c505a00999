package store

import (
	"context"
	"fmt"
	"time"

	"zhizhi/internal/gridwork"
)

// The party-building board's people in the grid (双报到, migration 17):
// party members reported to a community, its volunteer groups, service
// hours and the cases the groups helped with.

// PutPartyMember inserts or replaces a registration; a second registration
// of the same phone in the community is ErrConflict.
func (t *Tx) PutPartyMember(ctx context.Context, m gridwork.PartyMember) error {
	doc, err := docOf(m)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO party_members (id, community_code, community_path, grid_code, phone, reported_on, doc) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET grid_code = excluded.grid_code, phone = excluded.phone, reported_on = excluded.reported_on, doc = excluded.doc`,
		m.ID, m.Community, m.CommunityPath, m.Grid, m.Phone, m.ReportedOn, doc)
	if err != nil {
		return fmt.Errorf("put party member: %w", translate(err))
	}
	return nil
}

// PartyMember reads a registration inside a write.
func (t *Tx) PartyMember(ctx context.Context, id string) (gridwork.PartyMember, error) {
	return scanDoc[gridwork.PartyMember](t.QueryRow(ctx, `SELECT doc FROM party_members WHERE id = $1`, id), "party member")
}

// PartyMemberByPhone reads the community's registration of a phone inside
// a write.
func (t *Tx) PartyMemberByPhone(ctx context.Context, community, phone string) (gridwork.PartyMember, error) {
	return scanDoc[gridwork.PartyMember](t.QueryRow(ctx, `SELECT doc FROM party_members WHERE community_code = $1 AND phone = $2`, community, phone), "party member")
}

// PartyMember reads a registration.
func (db *DB) PartyMember(ctx context.Context, id string) (gridwork.PartyMember, error) {
	return scanDoc[gridwork.PartyMember](db.read.QueryRowContext(ctx, `SELECT doc FROM party_members WHERE id = $1`, id), "party member")
}

// PartyMembers lists the registrations of communities under a path, by
// reporting day (newest first).
func (db *DB) PartyMembers(ctx context.Context, under string) ([]gridwork.PartyMember, error) {
	return docsOf[gridwork.PartyMember](db.read.QueryContext(ctx, `SELECT doc FROM party_members WHERE community_path LIKE $1 ORDER BY reported_on DESC, id DESC`, likePrefix(under)))
}

// PutVolunteerGroup inserts or replaces a volunteer group; a second group
// of the same name in the community is ErrConflict.
func (t *Tx) PutVolunteerGroup(ctx context.Context, g gridwork.VolunteerGroup) error {
	doc, err := docOf(g)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO volunteer_groups (id, community_code, community_path, name, doc) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc`, g.ID, g.Community, g.CommunityPath, g.Name, doc)
	if err != nil {
		return fmt.Errorf("put volunteer group: %w", translate(err))
	}
	return nil
}

// VolunteerGroup reads a group inside a write.
func (t *Tx) VolunteerGroup(ctx context.Context, id string) (gridwork.VolunteerGroup, error) {
	return scanDoc[gridwork.VolunteerGroup](t.QueryRow(ctx, `SELECT doc FROM volunteer_groups WHERE id = $1`, id), "volunteer group")
}

// VolunteerGroups lists the groups of communities under a path, by name.
func (db *DB) VolunteerGroups(ctx context.Context, under string) ([]gridwork.VolunteerGroup, error) {
	return docsOf[gridwork.VolunteerGroup](db.read.QueryContext(ctx, `SELECT doc FROM volunteer_groups WHERE community_path LIKE $1 ORDER BY community_path, name`, likePrefix(under)))
}

// InsertServiceHours records a member's service hours.
func (t *Tx) InsertServiceHours(ctx context.Context, h gridwork.ServiceHours) error {
	doc, err := docOf(h)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO service_hours (id, member_id, community_path, on_day, case_id, doc) VALUES ($1,$2,$3,$4,$5,$6)`,
		h.ID, h.MemberID, h.CommunityPath, h.On, h.CaseID, doc)
	if err != nil {
		return fmt.Errorf("insert service hours: %w", translate(err))
	}
	return nil
}

// ServiceHours lists the hours of communities under a path with days in
// [from, to] (YYYY-MM-DD, either "" for open), newest first.
func (db *DB) ServiceHours(ctx context.Context, under, from, to string) ([]gridwork.ServiceHours, error) {
	if to == "" {
		to = "9999-12-31"
	}
	return docsOf[gridwork.ServiceHours](db.read.QueryContext(ctx, `SELECT doc FROM service_hours WHERE community_path LIKE $1 AND on_day >= $2 AND on_day <= $3 ORDER BY on_day DESC, id DESC`,
		likePrefix(under), from, to))
}

// InsertCaseHelp records a case given to a volunteer group; the same group
// on the same case again is ErrConflict.
func (t *Tx) InsertCaseHelp(ctx context.Context, h gridwork.CaseHelp) error {
	_, err := t.Exec(ctx, `INSERT INTO volunteer_cases (case_id, group_id, community_path, step_id, at) VALUES ($1,$2,$3,$4,$5)`,
		h.CaseID, h.GroupID, h.CommunityPath, h.StepID, ms(h.At))
	if err != nil {
		return fmt.Errorf("insert case help: %w", translate(err))
	}
	return nil
}

// CaseHelps lists the cases given to volunteer groups of communities under
// a path in [from, to).
func (db *DB) CaseHelps(ctx context.Context, under string, from, to time.Time) ([]gridwork.CaseHelp, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT case_id, group_id, community_path, step_id, at FROM volunteer_cases
		WHERE community_path LIKE $1 AND at >= $2 AND at < $3 ORDER BY at DESC`, likePrefix(under), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("case helps: %w", translate(err))
	}
	defer rows.Close()
	var out []gridwork.CaseHelp
	for rows.Next() {
		var h gridwork.CaseHelp
		var at int64
		if err := rows.Scan(&h.CaseID, &h.GroupID, &h.CommunityPath, &h.StepID, &at); err != nil {
			return nil, fmt.Errorf("case helps: %w", err)
		}
		h.At = time.UnixMilli(at).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// CaseIDByNumber finds a case's ID by its human number inside a write.
func (t *Tx) CaseIDByNumber(ctx context.Context, number string) (string, error) {
	var id string
	if err := t.QueryRow(ctx, `SELECT id FROM cases WHERE number = $1`, number).Scan(&id); err != nil {
		return "", fmt.Errorf("case number: %w", translate(err))
	}
	return id, nil
}
