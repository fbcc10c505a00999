package demo

import (
	"testing"
	"time"
)

// TestNYEOperation: the demo's operation is valid as the real evening and
// compressed for a replay, its 00:05 tasks inside the window, and the
// crowd curve rises to the countdown and leaves after it.
func TestNYEOperation(t *testing.T) {
	for _, speed := range []float64{1, 60, 3600} {
		op := NYEOperation(NYEStart, speed)
		if err := op.Check(); err != nil {
			t.Fatalf("speed %v: %v", speed, err)
		}
		want := NYEStart.Add(time.Duration(float64(4*time.Hour+5*time.Minute) / speed))
		if !op.Tasks[0].At.Equal(want) || op.Tasks[0].LimitMinutes != 15 {
			t.Errorf("speed %v: clean-up at %v, want %v", speed, op.Tasks[0].At, want)
		}
	}
	if got := NYEOperation(NYEStart, 1).Tasks[0].At; got.Format("15:04") != "00:05" || got.In(cst).Day() != 1 {
		t.Errorf("the clean-up is released at %v", got)
	}
	prev := -1.0
	for m := 0; m <= 240; m += 10 {
		v := NYECrowd(time.Duration(m) * time.Minute)
		if v < prev {
			t.Errorf("the crowd falls before the countdown at %d min", m)
		}
		prev = v
	}
	if NYECrowd(4*time.Hour) != 1 || NYECrowd(5*time.Hour) > 0.1 || NYECrowd(0) < 0.25 {
		t.Errorf("curve: %v %v %v", NYECrowd(0), NYECrowd(4*time.Hour), NYECrowd(5*time.Hour))
	}
	// 150,000 at the countdown is red (140,000); the early evening is not yellow.
	a := NYEOperation(NYEStart, 1).Areas[0]
	if 150000*NYECrowd(4*time.Hour) < a.Red || 150000*NYECrowd(0) >= a.Yellow {
		t.Errorf("the lines %v/%v do not fit the curve", a.Yellow, a.Red)
	}
}
