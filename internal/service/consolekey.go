package service

import (
	"context"
	"crypto/rand"
	"fmt"

	"zhizhi/internal/store"
)

// ConsoleKey returns the secret the console signs its form tokens with. It is
// made once per installation and kept in the database, so that every node
// accepts the forms of every other and a restart does not void open forms.
func (s *Service) ConsoleKey(ctx context.Context) ([]byte, error) {
	const name = "console_key"
	var key []byte
	if err := s.db.Setting(ctx, name, &key); err == nil && len(key) >= 32 {
		return key, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("console key: %w", err)
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.InitSetting(ctx, name, fresh) }); err != nil {
		return nil, err
	}
	if err := s.db.Setting(ctx, name, &key); err != nil || len(key) < 32 {
		return nil, fmt.Errorf("console key: %v", err)
	}
	return key, nil
}
