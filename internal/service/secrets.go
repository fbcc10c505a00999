package service

import (
	"context"
	"errors"
	"fmt"

	"zhizhi/internal/notify"
	"zhizhi/internal/seal"
	"zhizhi/internal/store"
)

// Secrets at rest (docs/operations.md): webhook subscriptions' signing
// secrets and the SMS gateway's auth value are stored sealed
// (AES-256-GCM, internal/seal) under the installation's secret key, and
// opened only to sign a delivery or call the gateway.

// The purposes sealed values are bound to.
const (
	purposeHookSecret = "webhook-secret"
	purposeGateway    = "sms-gateway-auth"
)

// keyCheckSetting holds a value sealed under the installation's key: a
// node started with another key finds it does not open and refuses to
// start, instead of failing every delivery.
const (
	keyCheckSetting = "secret_key_check"
	keyCheckPlain   = "zhizhi secret key check"
)

// initSecrets sets the service's key and, with a configured key, checks it
// against the database's and seals what is still stored in plaintext.
func (s *Service) initSecrets(ctx context.Context) error {
	if s.cfg.SecretKey == nil {
		// Tools and tests that open a service without a platform: a key
		// for this process only (what they seal does not outlive it).
		s.key = seal.Random()
		return nil
	}
	s.key = s.cfg.SecretKey
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.InitSetting(ctx, keyCheckSetting, s.key.Seal(keyCheckSetting, keyCheckPlain))
	})
	if err != nil {
		return err
	}
	var check string
	if err := s.db.Setting(ctx, keyCheckSetting, &check); err != nil {
		return err
	}
	if got, err := s.key.Open(keyCheckSetting, check); err != nil || got != keyCheckPlain {
		return errors.New("secret key: this database's secrets were sealed under another key (set the same ZHIZHI_SECRET_KEY, or the same key file, on every node)")
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		n, err := tx.SealSubscriptionSecrets(ctx, func(p string) string { return s.key.Seal(purposeHookSecret, p) })
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Info("secrets: sealed webhook subscription secrets stored in plaintext", "subscriptions", n)
		}
		var g notify.Gateway
		if err := s.db.Setting(ctx, gatewaySetting, &g); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("SMS gateway settings: %w", err)
		}
		if g.AuthValue == "" || seal.IsSealed(g.AuthValue) {
			return nil
		}
		g.AuthValue = s.key.Seal(purposeGateway, g.AuthValue)
		s.log.Info("secrets: sealed the SMS gateway's auth value stored in plaintext")
		return tx.PutSetting(ctx, gatewaySetting, g)
	})
}
