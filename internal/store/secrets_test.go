package store

import (
	"context"
	"strings"
	"testing"

	"zhizhi/internal/seal"
)

// TestSealSubscriptionSecrets: the start-up step seals the secrets stored
// in plaintext (rows from before secrets were sealed); afterwards the
// column holds no secret, only a value that opens to it under the key; a
// second run seals nothing and changes nothing.
func TestSealSubscriptionSecrets(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		putSub(t, db, "a", "active")
		putSub(t, db, "b", "paused")
		key := seal.Random()
		sealIt := func(p string) string { return key.Seal("webhook-secret", p) }
		var n int
		if err := db.Write(ctx, func(tx *Tx) (err error) { n, err = tx.SealSubscriptionSecrets(ctx, sealIt); return }); err != nil || n != 2 {
			t.Fatalf("sealed %d %v", n, err)
		}
		stored := map[string]string{}
		for _, id := range []string{"a", "b"} {
			s, err := db.StoredSubscriptionSecret(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s, "secret-secret-") || !seal.IsSealed(s) {
				t.Errorf("%s: the column holds %q", id, s)
			}
			if p, err := key.Open("webhook-secret", s); err != nil || p != "secret-secret-"+id {
				t.Errorf("%s opens to %q %v", id, p, err)
			}
			stored[id] = s
		}
		if err := db.Write(ctx, func(tx *Tx) (err error) { n, err = tx.SealSubscriptionSecrets(ctx, sealIt); return }); err != nil || n != 0 {
			t.Fatalf("second run sealed %d %v", n, err)
		}
		for id, was := range stored {
			if s, _ := db.StoredSubscriptionSecret(ctx, id); s != was {
				t.Errorf("%s changed by the second run", id)
			}
		}
	})
}
