package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"zhizhi/internal/demo"
	"zhizhi/internal/ingest"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// simulate runs a simulator: `simulate sensors` publishes realistic
// readings of the registered devices to the MQTT broker, at a rate, until
// stopped (or for a while); -register N first registers the demo's device
// kinds, N devices over the demo's grids and the demo's rules.
func simulate(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "operation" {
		return simulateOperation(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "sensors" {
		return errors.New("usage: zhizhi simulate sensors|operation [flags]")
	}
	fs := flag.NewFlagSet("simulate sensors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", env("ZHIZHI_DB", "zhizhi.db"), "SQLite file or postgres:// URL whose devices to simulate (ZHIZHI_DB)")
	broker := fs.String("mqtt", env("ZHIZHI_MQTT", "tcp://127.0.0.1:1883"), "MQTT broker (ZHIZHI_MQTT)")
	prefix := fs.String("prefix", env("ZHIZHI_MQTT_PREFIX", "zhizhi/readings"), "topic prefix (ZHIZHI_MQTT_PREFIX)")
	rate := fs.Int("rate", 200, "readings per second")
	dur := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	register := fs.Int("register", 0, "first register the demo's device kinds, this many devices and the demo's rules")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *rate < 1 || *rate > 100000 {
		return fmt.Errorf("-rate %d: must be between 1 and 100000", *rate)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	d, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if *register > 0 {
		svc, err := service.New(ctx, d, service.Config{DefaultCenter: demo.District})
		if err != nil {
			return err
		}
		n, err := demo.LoadSensors(ctx, svc, *register, *seed)
		if err != nil {
			return fmt.Errorf("register devices: %w", err)
		}
		fmt.Fprintf(stdout, "registered %d devices\n", n)
	}
	kinds, err := d.DeviceKinds(ctx)
	if err != nil {
		return err
	}
	rows, err := d.Devices(ctx, store.DeviceFilter{})
	if err != nil {
		return err
	}
	devs := make([]sensors.Device, len(rows))
	for i, r := range rows {
		devs[i] = r.Device
	}
	sim := sensors.NewSimulator(devs, kinds, *seed)
	if sim.Devices() == 0 {
		return errors.New("no devices to simulate: register some (-register 3000)")
	}
	host, _ := os.Hostname()
	pub, err := ingest.NewPublisher(*broker, fmt.Sprintf("zhizhi-sim-%s-%d", host, os.Getpid()), *prefix)
	if err != nil {
		return err
	}
	defer pub.Close()
	fmt.Fprintf(stdout, "publishing %d readings/s of %d devices to %s under %s/{kind}/{device}\n", *rate, sim.Devices(), *broker, *prefix)
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var sent, carry float64
	confirmed := 0
	var pending []mqtt.Token // published, not yet acknowledged by the broker
	// settle counts the acknowledged publications, waiting up to wait for
	// the rest.
	settle := func(wait time.Duration) {
		timeout := time.After(wait)
		kept := pending[:0]
		for i, tok := range pending {
			select {
			case <-tok.Done():
				if tok.Error() == nil {
					confirmed++
				}
				continue
			default:
			}
			if wait > 0 {
				select {
				case <-tok.Done():
					if tok.Error() == nil {
						confirmed++
					}
					continue
				case <-timeout:
					wait = 0
				}
			}
			kept = append(kept, pending[i])
		}
		pending = kept
	}
	report := time.Now()
	for {
		select {
		case <-ctx.Done():
			// Wait for the broker's acknowledgements before closing, so
			// that what was published is what the broker has.
			settle(10 * time.Second)
			fmt.Fprintf(stdout, "published %.0f readings (%d confirmed by the broker)\n", sent, confirmed)
			return nil
		case now := <-t.C:
			carry += float64(*rate) * tick.Seconds()
			n := int(carry)
			carry -= float64(n)
			for _, r := range sim.Next(n, now.Truncate(time.Millisecond)) {
				body, _ := json.Marshal(map[string]any{"value": r.Value, "at": r.At.UnixMilli()})
				// QoS 1: the client resends until the broker has it.
				pending = append(pending, pub.Publish(r.Kind, r.Device, body))
				sent++
			}
			settle(0)
			if time.Since(report) >= 10*time.Second {
				fmt.Fprintf(stdout, "published %.0f readings\n", sent)
				report = time.Now()
			}
		}
	}
}

// simulateOperation replays the demo's New Year's Eve at 解放碑 (S3) now:
// it plans a copy of the operation starting in a few seconds, its evening
// compressed -speed times (60: the six hours in six minutes, the 00:05
// tasks released about four minutes in; their 15-minute limits stay real),
// and publishes the evening's crowd curve for the counters of its area
// (peaking at -peak people in all) to the broker every second until the
// window ends. A node serving with -mqtt takes the readings; its
// operation loop raises the alerts and releases the tasks.
func simulateOperation(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate operation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", env("ZHIZHI_DB", "zhizhi.db"), "SQLite file or postgres:// URL of the demo installation (ZHIZHI_DB)")
	broker := fs.String("mqtt", env("ZHIZHI_MQTT", "tcp://127.0.0.1:1883"), "MQTT broker (ZHIZHI_MQTT)")
	prefix := fs.String("prefix", env("ZHIZHI_MQTT_PREFIX", "zhizhi/readings"), "topic prefix (ZHIZHI_MQTT_PREFIX)")
	speed := fs.Float64("speed", 60, "how many times faster than the real evening (1 to 3600)")
	peak := fs.Float64("peak", 150000, "the crowd in the area at the countdown")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *speed < 1 || *speed > 3600 {
		return fmt.Errorf("-speed %v: must be between 1 and 3600", *speed)
	}
	if *peak <= 0 {
		return fmt.Errorf("-peak %v: must be above 0", *peak)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	svc, err := service.New(ctx, d, service.Config{DefaultCenter: demo.District})
	if err != nil {
		return err
	}
	start := time.Now().Add(10 * time.Second).Truncate(time.Second)
	op, err := demo.ReplayOperation(ctx, svc, start, *speed)
	if err != nil {
		return fmt.Errorf("plan the replay: %w", err)
	}
	rows, err := d.Devices(ctx, store.DeviceFilter{Kind: op.Kind, Area: op.Areas[0].Key})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("no %s counters in area %s: load the demo first", op.Kind, op.Areas[0].Key)
	}
	host, _ := os.Hostname()
	pub, err := ingest.NewPublisher(*broker, fmt.Sprintf("zhizhi-op-%s-%d", host, os.Getpid()), *prefix)
	if err != nil {
		return err
	}
	defer pub.Close()
	fmt.Fprintf(stdout, "replaying %s as operation %s (%s to %s), %d counters, %gx\n", op.Name, op.ID,
		op.Start.Format(time.TimeOnly), op.End.Format(time.TimeOnly), len(rows), *speed)
	rnd := rand.New(rand.NewPCG(*seed, 3))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	each := *peak / float64(len(rows))
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if now.After(op.End) {
				fmt.Fprintln(stdout, "the replayed evening is over")
				return nil
			}
			share := demo.NYECrowd(time.Duration(float64(now.Sub(op.Start)) * *speed))
			for _, r := range rows {
				v := math.Round(each * share * (1 + 0.03*rnd.NormFloat64()))
				body, _ := json.Marshal(map[string]any{"value": math.Max(0, v), "at": now.UnixMilli()})
				pub.Publish(r.Kind, r.ID, body)
			}
		}
	}
}
