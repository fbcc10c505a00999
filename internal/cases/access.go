package cases

import (
	"slices"
	"strings"
)

// CanSee reports whether the actor may read the case. Scopes: region roles see
// the cases placed in their region subtree; a commander also sees cases owned
// by a center in the subtree; unit staff see the cases their unit was ever
// dispatched, summoned to by a whistle or given a meeting's decision on (a
// board head also those of the board's posts and sections); community staff
// see their community's cases and those of their community unit; a
// person summoned by a whistle sees its case; residents and enterprises see
// what they reported.
func CanSee(a Actor, c *Case) bool {
	switch a.Role {
	case RoleSystem:
		return true
	case RoleAdmin, RoleLeader, RoleCommander, RoleGridWorker, RoleGridChief, RoleHead:
		if a.RegionPath == "" {
			return false
		}
		if strings.HasPrefix(c.RegionPath, a.RegionPath) || strings.HasPrefix(c.CenterPath, a.RegionPath) {
			return true
		}
		// People of a grid also follow what they reported elsewhere; a
		// center's staff see their region, whoever reported.
		// Summoned heads see the cases they were whistled to.
		switch a.Role {
		case RoleGridWorker, RoleGridChief, RoleHead:
			if a.AccountID != "" && a.AccountID == c.Reporter.AccountID {
				return true
			}
			return c.involved(a)
		}
		return false
	case RoleUnit:
		if a.UnitID == "" {
			return false
		}
		for _, t := range c.Tasks {
			if t.UnitID == a.UnitID || slices.Contains(a.Units, t.UnitID) {
				return true
			}
		}
		return c.involved(a)
	case RoleCommunity:
		// Community staff see their community's cases, and any case their
		// community was dispatched or summoned to.
		if a.RegionPath != "" && strings.HasPrefix(c.RegionPath, a.RegionPath) {
			return true
		}
		if a.AccountID != "" && a.AccountID == c.Reporter.AccountID {
			return true
		}
		if a.UnitID != "" {
			for _, t := range c.Tasks {
				if t.UnitID == a.UnitID {
					return true
				}
			}
		}
		return c.involved(a)
	case RoleResident, RoleEnterprise:
		return a.AccountID != "" && a.AccountID == c.Reporter.AccountID
	}
	return false
}

// SeesPhones reports whether the actor's role needs reporters' phone numbers
// (to call back): such an actor may reveal one, case by case, and each
// reveal is recorded (service.RevealPhone). Everyone else sees them masked.
func SeesPhones(a Actor) bool {
	return a.Role == RoleCommander || a.Role == RoleSystem
}

// MaskPhone hides the middle of a phone number: 138****5678.
func MaskPhone(p string) string {
	r := []rune(p)
	if len(r) < 8 { // with 7 or fewer, showing 3+4 would hide nothing
		if len(r) == 0 {
			return ""
		}
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// Redact returns the case as the actor may see it: the reporter's phone
// masked for everyone but the reporter and the system. Personal data is
// shown in full only when asked for, and that read is recorded
// (service.RevealPhone), never as a side effect of listing or opening cases.
func Redact(a Actor, c Case) Case {
	if a.Role != RoleSystem && !(a.AccountID != "" && a.AccountID == c.Reporter.AccountID) {
		c.Reporter.Phone = MaskPhone(c.Reporter.Phone)
	}
	return c
}
