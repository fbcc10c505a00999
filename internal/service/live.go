package service

import (
	"context"
	"errors"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// RunListener carries the case changes committed by other nodes into this
// node's hub until ctx ends: each notice (case ID and version) is read back
// from the database, so subscribers get the same event, with the same scope
// check, as on the node that made the change. This node's own notices are
// skipped: its hub already had them after commit. On SQLite it returns at
// once, since a single process shares its hub directly.
func (s *Service) RunListener(ctx context.Context) {
	err := s.db.ListenCases(ctx, func(n store.CaseNotice) {
		if n.Node == s.node {
			return
		}
		if n.Inbox != "" {
			s.nt.inbox.publish(n.Inbox)
			return
		}
		if n.Tokens != "" {
			if n.Tokens == "*" {
				s.forgetAllTokens()
			} else {
				s.forgetTokenHash(n.Tokens)
			}
			return
		}
		if n.Project != "" {
			if err := s.relayProject(ctx, n); err != nil && ctx.Err() == nil {
				s.log.Warn("project update from another node", "project", n.Project, "err", err)
			}
			return
		}
		if n.Reload {
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reload after another node's change", "err", err)
			}
			return
		}
		if err := s.relay(ctx, n); err != nil && ctx.Err() == nil {
			s.log.Warn("live update from another node", "case", n.CaseID, "version", n.Version, "err", err)
		}
	}, func(err error) {
		// Notices sent while the connection was down are gone: tell every
		// subscriber to resynchronise.
		s.log.Warn("live updates: listener reconnected", "err", err)
		s.hub.Lose()
		// So may a revocation: trust no cached sign-in.
		s.forgetAllTokens()
		// A reference change may have been missed too.
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reload after reconnecting", "err", err)
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("live updates listener", "err", err)
	}
}

// relay publishes to the local hub the change another node announced.
func (s *Service) relay(ctx context.Context, n store.CaseNotice) error {
	c, err := s.db.Case(ctx, n.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // another installation's notice on the same server
	}
	if err != nil {
		return err
	}
	step, err := s.db.Step(ctx, n.CaseID, n.Version)
	if err != nil {
		return err
	}
	s.hub.Publish(eventOf(&c, &step))
	return nil
}

// relayProject publishes to the local hub the project change another node
// announced, read back from the database (its version is the one after the
// change, or later if it changed again since), timed when it is relayed.
func (s *Service) relayProject(ctx context.Context, n store.CaseNotice) error {
	p, err := s.db.Project(ctx, n.Project)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	actor := cases.Actor{AccountID: n.ProjectActor}
	if a, err := s.db.Account(ctx, n.ProjectActor); err == nil {
		actor.Name = a.Name
	}
	s.hub.Publish(projectEvent(p, n.ProjectAction, actor, s.Now()))
	return nil
}

// changed reloads this node's caches after a change to reference data and
// tells the other nodes to do the same.
func (s *Service) changed(ctx context.Context) error {
	if err := s.Reload(ctx); err != nil {
		return err
	}
	if s.db.Dialect != store.Postgres {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error { return tx.NotifyReload(ctx, s.node) })
}
