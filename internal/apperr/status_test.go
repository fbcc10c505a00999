package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{Field("x", "bad"), 400}, {New(NotFound, "m"), 404}, {New(Conflict, "m"), 409}, {New(Refused, "m"), 409},
		{New(Forbidden, "m"), 403}, {New(Unauthorized, "m"), 401}, {New(TooMany, "m"), 429}, {BodyTooLarge(1 << 20), 413},
		{fmt.Errorf("wrapped: %w", New(TooMany, "m")), 429}, {errors.New("driver failure"), 500},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1MB", 64 << 20: "64MB", 100 << 20: "100MB", 1536 << 10: "1.5MB", 4096: "4KB"} {
		if got := SizeText(n); got != want {
			t.Errorf("SizeText(%d) = %q, want %q", n, got, want)
		}
	}
	if got := BodyTooLarge(1 << 20).Message; got != "请求内容过大，不能超过1MB" {
		t.Errorf("message %q", got)
	}
}
