package service

import (
	"context"
	"time"

	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// DefaultHistoryRetention is how long read notifications, finished
// notification deliveries and webhook delivery log entries are kept when
// Config.HistoryRetention is 0.
const DefaultHistoryRetention = 90 * 24 * time.Hour

// historyBatch is how many rows one purge transaction deletes at most.
const historyBatch = 500

// PurgeHistory deletes the notification and webhook history older than the
// retention (store.PurgeHistory; run hourly by the sweeper).
func (s *Service) PurgeHistory(ctx context.Context) (store.HistoryPurged, error) {
	keep := s.cfg.HistoryRetention
	if keep <= 0 {
		keep = DefaultHistoryRetention
	}
	return s.db.PurgeHistory(ctx, id.At(s.Now().Add(-keep)), historyBatch)
}
