package cases_test

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"13800000000", "13800000000", true},
		{"138 0000 0000", "13800000000", true},
		{"+86 138 0000 0000", "13800000000", true},
		{"0086-138-0000-0000", "13800000000", true},
		{"１３８００００００００", "13800000000", true},
		{"023 6388 1234", "023-63881234", true},
		{"(023) 6388-1234", "023-63881234", true},
		{"（023）6388－1234", "023-63881234", true},
		{"023.6388.1234", "023-63881234", true},
		{"+86 23 6388 1234", "023-63881234", true},
		{"010-12345678", "010-12345678", true},
		{"0571 8888 8888", "0571-88888888", true},
		{"63881234", "63881234", true},
		{"12345", "12345", true},
		{"+44 20 7946 0958", "+442079460958", true},
		{"", "", false},
		{"电话", "电话", false},
		{"138-0000-000", "138-0000-000", false},
		{"1380000000012345", "1380000000012345", false},
		{"12+3456", "12+3456", false},
		{"0000", "0000", false},
		{"023-123", "023-123", false},
	} {
		got, ok := cases.NormalizePhone(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok {
			// What it returns is a phone the domain keeps.
			if again, ok2 := cases.NormalizePhone(got); !ok2 || again != got {
				t.Errorf("NormalizePhone(%q) again = %q, %v", got, again, ok2)
			}
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"023 6388 1234", "+86 138 0000 0000", "（023）6388－1234", "12345", "+", "0086"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := cases.NormalizePhone(s)
		if !ok {
			if got != s {
				t.Fatalf("refused %q but changed it to %q", s, got)
			}
			return
		}
		if strings.ContainsAny(got, " ()") || len(got) > 16 || len(got) < 5 {
			t.Fatalf("NormalizePhone(%q) = %q", s, got)
		}
	})
}

// TestClientUpdates: a client app's follow-up is a comment in any state that
// changes nothing but the timeline, and a client may reopen a closed case
// (and nothing else), keeping who wrote it and the client's update ID.
func TestClientUpdates(t *testing.T) {
	t.Parallel()
	client := cases.Actor{AccountID: "apikey:k1", Name: "fixmystreet", Role: cases.RoleSystem, RegionPath: streetPath}
	upd := &cases.ClientUpdate{Key: "fixmystreet", UpdateID: "77", Name: "王 小明", MediaURL: "https://example.org/a.jpg"}
	for _, st := range []cases.State{cases.Reported, cases.Handling, cases.Closed} {
		c, now := reach(t, st)
		n, step, err := cases.Apply(c, cases.Command{Action: cases.ActComment, Note: "还是不亮", Client: upd}, client, pol, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("%s: comment: %v", st, err)
		}
		if n.State != c.State || step.Note != "还是不亮" || step.Data["update_id"] != "77" || step.Data["name"] != "王 小明" || step.Data["media_url"] != upd.MediaURL {
			t.Errorf("%s: state %s, step %+v", st, n.State, step)
		}
		if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActComment, Client: upd}, client, pol, now.Add(time.Minute)); err == nil {
			t.Errorf("%s: a comment without text was taken", st)
		}
		if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActComment, Note: "x"}, commander, pol, now.Add(time.Minute)); err == nil {
			t.Errorf("%s: a commander wrote a client's comment", st)
		}
	}
	c, now := reach(t, cases.Closed)
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActReopen, Note: "问题依旧", Client: upd}, client, pol, now.Add(time.Minute))
	if err != nil || n.State != cases.Accepted || n.Reopens != 1 || step.Data["update_id"] != "77" {
		t.Fatalf("client reopen: %v, state %s, step %+v", err, n.State, step)
	}
	h, now := reach(t, cases.Handling)
	if _, _, err := cases.Apply(h, cases.Command{Action: cases.ActReopen, Note: "x", Client: upd}, client, pol, now); err == nil {
		t.Error("a client reopened an open case")
	}
	if _, _, err := cases.Apply(h, cases.Command{Action: cases.ActClose}, client, pol, now); err == nil {
		t.Error("a client closed a case")
	}
}
