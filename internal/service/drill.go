package service

import (
	"net/url"

	"zhizhi/internal/evaluation"
)

// DrillQuery is the case-list query (for /api/v1/cases and the console's
// /cases) of exactly the cases behind one measure of one subject in a
// period: fact=<kind>:<subject>:<measure>&period=<key>. Counting that list
// gives the measure's count in the rollups.
func DrillQuery(kind evaluation.SubjectKind, subject string, m evaluation.Measure, periodKey string) url.Values {
	return url.Values{"fact": {string(kind) + ":" + subject + ":" + string(m)}, "period": {periodKey}}
}
