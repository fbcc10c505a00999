package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/store"
)

// cpuSnap is where the CPU went, read at the start and the end of a phase
// of BenchmarkIntakeWebhooks (Linux: /proc): the CPU time of this
// process's threads and of the receiver's (schedstat, nanoseconds), the
// whole machine's ticks by kind (/proc/stat), the Go runtime's estimate of
// this process's garbage collection CPU and its allocations, and the
// writer's counters.
type cpuSnap struct {
	at                            time.Time
	node, rcv, snd                time.Duration // on-CPU time of the threads (snd: the exchange case's sender process)
	user, sys, softirq, idle, all int64         // /proc/stat ticks, both cores
	gc                            float64       // /cpu/classes/gc/total, seconds
	allocs                        uint64        // /gc/heap/allocs:objects
	w                             store.WriterStats
	heard                         int64 // deliveries the receiver counted
}

// threadsCPU sums the on-CPU nanoseconds of a process's threads.
func threadsCPU(pid string) time.Duration {
	tasks, _ := filepath.Glob("/proc/" + pid + "/task/*/schedstat")
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// exchangePid is the exchange case's sender process while it runs.
var exchangePid int

var cpuSamples = []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/allocs:objects"}}

func takeSnap(e *platform, rcvPid int, heard int64) cpuSnap {
	s := cpuSnap{at: time.Now(), node: threadsCPU("self"), rcv: threadsCPU(strconv.Itoa(rcvPid)), w: e.p.DB.WriterStats(), heard: heard}
	if exchangePid != 0 {
		s.snd = threadsCPU(strconv.Itoa(exchangePid))
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
		var v [10]int64
		for i := 1; i < len(f) && i <= 10; i++ {
			v[i-1], _ = strconv.ParseInt(f[i], 10, 64)
			s.all += v[i-1]
		}
		s.user, s.sys, s.idle, s.softirq = v[0]+v[1], v[2]+v[5], v[3]+v[4], v[6]
	}
	metrics.Read(cpuSamples)
	s.gc = cpuSamples[0].Value.Float64()
	s.allocs = cpuSamples[1].Value.Uint64()
	return s
}

// cpuSum adds up phases (the differences of their snapshots).
type cpuSum struct {
	phases, reports, deliveries            int64
	wall, node, rcv, snd                   time.Duration
	user, sys, softirq, idle, all          int64
	gc                                     float64
	allocs                                 uint64
	batches, syncs, durables, durableWaits int64
	commitTime, syncTime                   time.Duration
}

func (c *cpuSum) add(a, b cpuSnap, reports int64) {
	c.phases++
	c.reports += reports
	c.deliveries += b.heard - a.heard
	c.wall += b.at.Sub(a.at)
	c.node += b.node - a.node
	c.rcv += b.rcv - a.rcv
	c.snd += b.snd - a.snd
	c.user += b.user - a.user
	c.sys += b.sys - a.sys
	c.softirq += b.softirq - a.softirq
	c.idle += b.idle - a.idle
	c.all += b.all - a.all
	c.gc += b.gc - a.gc
	c.allocs += b.allocs - a.allocs
	c.batches += b.w.Batches - a.w.Batches
	c.syncs += b.w.Syncs - a.w.Syncs
	c.durables += b.w.Durables - a.w.Durables
	c.durableWaits += b.w.DurableWaits - a.w.DurableWaits
	c.commitTime += b.w.CommitTime - a.w.CommitTime
	c.syncTime += b.w.SyncTime - a.w.SyncTime
}

// line is the phases' figures per report, and per second where a rate
// says more.
func (c *cpuSum) line() string {
	r := float64(c.reports)
	sec := c.wall.Seconds()
	tick := float64(c.all) // ticks of both cores over the phases
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / r }
	return fmt.Sprintf("%d reports, %d deliveries in %.2fs; per report: node %.0fµs (gc %.0fµs, %.0f allocs), sender %.1fµs, receiver %.1fµs; machine: user %.1f%% sys %.1f%% softirq %.1f%% idle %.1f%%; "+
		"per second: commits %.0f, fsyncs %.0f, Durable %.0f (%.0f waited); in COMMIT %.0f%% of the time, syncing the log %.0f%% (%.1f ms an fsync)",
		c.reports, c.deliveries, sec, us(c.node), c.gc*1e6/r, float64(c.allocs)/r, us(c.snd), us(c.rcv),
		100*float64(c.user)/tick, 100*float64(c.sys)/tick, 100*float64(c.softirq)/tick, 100*float64(c.idle)/tick,
		float64(c.batches)/sec, float64(c.syncs)/sec, float64(c.durables)/sec, float64(c.durableWaits)/sec,
		100*c.commitTime.Seconds()/sec, 100*c.syncTime.Seconds()/sec, float64(c.syncTime.Microseconds())/1000/float64(max(c.syncs, 1)))
}

// perDelivery is what the phases with subscriptions cost beyond those
// without, for the same reports, per delivery: the node's CPU, its
// garbage collection's, the receiver's, and the machine's system and
// softirq time (the two cores' ticks as CPU time).
func perDelivery(with, without cpuSum, tickSec float64) string {
	if with.deliveries == 0 || without.reports == 0 {
		return "no deliveries"
	}
	k := float64(with.reports) / float64(without.reports) // scale the without phases to the with phases' reports
	d := float64(with.deliveries)
	us := func(w, wo float64) float64 { return (w - k*wo) / d }
	tk := func(w, wo int64) float64 { return us(float64(w)*tickSec*1e6, float64(wo)*tickSec*1e6) }
	return fmt.Sprintf("per delivery: node %.0fµs (gc %.0fµs, %.0f allocs), sender %.0fµs, receiver %.0fµs, machine user %.0fµs, sys %.0fµs, softirq %.0fµs, all busy %.0fµs; commits %+.0f/s, fsyncs %+.0f/s",
		us(float64(with.node.Microseconds()), float64(without.node.Microseconds())),
		us(with.gc*1e6, without.gc*1e6),
		us(float64(with.allocs), float64(without.allocs)),
		us(float64(with.snd.Microseconds()), float64(without.snd.Microseconds())),
		us(float64(with.rcv.Microseconds()), float64(without.rcv.Microseconds())),
		tk(with.user, without.user), tk(with.sys, without.sys), tk(with.softirq, without.softirq),
		tk(with.all-with.idle, without.all-without.idle),
		float64(with.batches)/with.wall.Seconds()-float64(without.batches)/without.wall.Seconds(),
		float64(with.syncs)/with.wall.Seconds()-float64(without.syncs)/without.wall.Seconds())
}
