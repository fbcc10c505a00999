package sensors

import (
	"math"
	"math/rand/v2"
	"time"
)

// Simulator makes realistic readings for registered devices (the demo's
// `zhizhi simulate sensors`): crowd counts that follow the day (low before
// dawn, high in the evening), quiet smoke and gas levels with rare spikes,
// water levels that rise in rain spells, a steady strain with noise. Every
// value stays within its kind's range. It is deterministic for a seed.
type Simulator struct {
	devices []Device
	kinds   map[string]Kind
	level   map[string]float64 // a device's own scale (a busy square counts more than a lane)
	rnd     *rand.Rand
	next    int
}

// NewSimulator makes a simulator over the active devices.
func NewSimulator(devices []Device, kinds []Kind, seed uint64) *Simulator {
	s := &Simulator{kinds: map[string]Kind{}, level: map[string]float64{}, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	for _, k := range kinds {
		s.kinds[k.Code] = k
	}
	for _, d := range devices {
		if d.State == Retired {
			continue
		}
		if _, ok := s.kinds[d.Kind]; !ok {
			continue
		}
		s.devices = append(s.devices, d)
		s.level[d.ID] = 0.3 + 0.7*s.rnd.Float64()
	}
	return s
}

// Devices is how many devices the simulator reads for.
func (s *Simulator) Devices() int { return len(s.devices) }

// Next returns the next n readings at now, taking the devices in turn.
func (s *Simulator) Next(n int, now time.Time) []Reading {
	if len(s.devices) == 0 {
		return nil
	}
	out := make([]Reading, 0, n)
	for i := 0; i < n; i++ {
		d := s.devices[s.next]
		s.next = (s.next + 1) % len(s.devices)
		out = append(out, Reading{Device: d.ID, Kind: d.Kind, Value: s.Value(d, now), At: now})
	}
	return out
}

// Value is a device's simulated value at a moment.
func (s *Simulator) Value(d Device, now time.Time) float64 {
	k := s.kinds[d.Kind]
	span := k.Max - k.Min
	lvl := s.level[d.ID]
	local := now.In(time.FixedZone("CST", 8*3600))
	hour := float64(local.Hour()) + float64(local.Minute())/60
	noise := s.rnd.NormFloat64()
	var v float64
	switch d.Kind {
	case "crowd":
		// Lowest about 04:00, highest about 20:00.
		c := (1 + math.Cos((hour-20)/24*2*math.Pi)) / 2
		day := 0.1 + 0.9*c*c
		v = k.Min + span*0.02*lvl*day*(1+0.1*noise)
	case "smoke", "gas":
		v = k.Min + span*(0.005+0.002*noise)
		if s.rnd.Float64() < 0.0005 {
			v = k.Min + span*(0.3+0.4*s.rnd.Float64()) // a rare spike
		}
	case "water_level":
		rain := math.Max(0, math.Sin(float64(local.YearDay())+hour/6))
		v = k.Min + span*(0.01+0.05*rain*lvl+0.003*noise)
	default:
		v = k.Min + span*(0.2+0.1*lvl+0.01*noise)
	}
	return math.Round(math.Min(k.Max, math.Max(k.Min, v))*100) / 100
}
