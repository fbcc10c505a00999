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
		{New(Forbidden, "m"), 403}, {New(Unauthorized, "m"), 401}, {New(TooMany, "m"), 429},
		{fmt.Errorf("wrapped: %w", New(TooMany, "m")), 429}, {errors.New("driver failure"), 500},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
