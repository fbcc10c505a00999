// Package sensors is the pure domain of the sensor feeds (感知设备): device
// kinds as data (unit, value range), devices, the validation of a reading,
// and the rules that turn readings into incidents (rules.go). It does no I/O:
// the store keeps devices, readings and incidents, package service is the
// one write path, and package ingest receives readings over MQTT.
package sensors

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

// Kind is a kind of device (crowd counter, smoke detector, water level…):
// the unit and the range its readings may take.
type Kind struct {
	Code string  `json:"code"` // e.g. crowd, smoke, water_level
	Name string  `json:"name"` // Chinese name, e.g. 客流计数
	Unit string  `json:"unit"` // e.g. 人, ppm, m
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// codeRE is what a kind code or device ID may look like: it is part of an
// MQTT topic, so no '/', '+', '#' or spaces.
var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidCode reports whether s may name a kind or a device.
func ValidCode(s string) bool { return codeRE.MatchString(s) }

// Check validates a kind.
func (k Kind) Check() error {
	var f apperr.Fields
	if !ValidCode(k.Code) {
		f.Add("code", "编码须为1–64位字母、数字、下划线、点或连字符")
	}
	if strings.TrimSpace(k.Name) == "" {
		f.Add("name", "请填写名称")
	}
	if strings.TrimSpace(k.Unit) == "" {
		f.Add("unit", "请填写计量单位")
	}
	if !finite(k.Min) || !finite(k.Max) || k.Min >= k.Max {
		f.Add("max", "取值范围无效：下限须小于上限")
	}
	return f.Err()
}

// DeviceState is a device's state.
type DeviceState string

// The device states.
const (
	Active  DeviceState = "active"  // 在用
	Silent  DeviceState = "silent"  // 静默 (no reading for a while; set by the silence rule)
	Retired DeviceState = "retired" // 停用
)

// Valid reports whether s is a known state.
func (s DeviceState) Valid() bool { return s == Active || s == Silent || s == Retired }

// Label is the state's Chinese name.
func (s DeviceState) Label() string {
	switch s {
	case Active:
		return "在用"
	case Silent:
		return "静默"
	case Retired:
		return "停用"
	}
	return string(s)
}

// Device is one registered device.
type Device struct {
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	Name      string      `json:"name"`
	Point     geo.Point   `json:"point"`
	Grid      string      `json:"grid,omitempty"`       // grid code the device stands in (placed by the service)
	Area      string      `json:"area,omitempty"`       // the area its readings are summed in (an operation area or a grid); "" = its grid
	RiskPoint string      `json:"risk_point,omitempty"` // the risk point it watches (a high-rise, bridge, tunnel…)
	Unit      string      `json:"unit,omitempty"`       // owner unit ID
	State     DeviceState `json:"state"`
}

// AreaOf is the area a device's readings are summed in.
func (d Device) AreaOf() string {
	if d.Area != "" {
		return d.Area
	}
	return d.Grid
}

// Check validates a device against its kind (nil when the kind is unknown).
func (d Device) Check(kind *Kind) error {
	var f apperr.Fields
	if !ValidCode(d.ID) {
		f.Add("id", "设备编号须为1–64位字母、数字、下划线、点或连字符")
	}
	if d.Kind == "" {
		f.Add("kind", "请填写设备类型")
	} else if kind == nil {
		f.Add("kind", "设备类型不存在")
	}
	if !d.Point.Valid() {
		f.Add("point", "位置无效")
	}
	if !d.State.Valid() {
		f.Add("state", "状态须为 active、silent 或 retired")
	}
	if d.Area != "" && !ValidCode(d.Area) {
		f.Add("area", "区域编码无效")
	}
	return f.Err()
}

// Reading is one value a device reported.
type Reading struct {
	Device string    `json:"device"`
	Kind   string    `json:"kind"`
	Value  float64   `json:"value"`
	At     time.Time `json:"at"`
}

// Problem is why a reading was refused. Refused readings are counted per
// device and reason; they never become incidents.
type Problem string

// The problems of a reading.
const (
	OK            Problem = ""
	Malformed     Problem = "malformed"      // not a reading: bad JSON, no value, not a number
	UnknownDevice Problem = "unknown_device" // no such device
	RetiredDevice Problem = "retired_device" // the device is retired
	WrongKind     Problem = "wrong_kind"     // the reading's kind is not the device's kind
	OutOfRange    Problem = "out_of_range"   // outside the kind's range
	Replayed      Problem = "replayed"       // already stored (a redelivery), or too old
	Future        Problem = "future"         // too far ahead of the server's clock
)

// Problems lists every problem, for counters and pages.
var Problems = []Problem{Malformed, UnknownDevice, RetiredDevice, WrongKind, OutOfRange, Replayed, Future}

// Label is the problem's Chinese name.
func (p Problem) Label() string {
	switch p {
	case Malformed:
		return "格式错误"
	case UnknownDevice:
		return "设备未登记"
	case RetiredDevice:
		return "设备已停用"
	case WrongKind:
		return "类型不符"
	case OutOfRange:
		return "超出量程"
	case Replayed:
		return "重复或过期"
	case Future:
		return "时间超前"
	}
	return string(p)
}

// Clock limits on a reading's time.
const (
	MaxAhead = 2 * time.Minute // a reading may be at most this far ahead of the server (clock skew)
	MaxAge   = 24 * time.Hour  // and at most this old
)

// Validate checks a reading against its device (nil when not registered),
// the device's kind and the server's clock. A reading older than MaxAge is
// a replay; one already stored (the same device and time: MQTT delivers at
// least once) is found a replay by the store, counted and not doubled.
// Readings of a device may arrive out of order (nodes sharing a
// subscription each take some): they are stored, and the rules see only
// those newer than the last they saw.
func Validate(r Reading, dev *Device, kind *Kind, now time.Time) Problem {
	switch {
	case !finite(r.Value) || r.At.IsZero():
		return Malformed
	case dev == nil:
		return UnknownDevice
	case dev.State == Retired:
		return RetiredDevice
	case r.Kind != "" && r.Kind != dev.Kind, kind == nil:
		return WrongKind
	case r.Value < kind.Min || r.Value > kind.Max:
		return OutOfRange
	case r.At.After(now.Add(MaxAhead)):
		return Future
	case r.At.Before(now.Add(-MaxAge)):
		return Replayed
	}
	return OK
}

// payload is a reading's body: {"value": 12.5, "at": "2024-01-01T00:00:00+08:00"}
// (at may also be milliseconds since the epoch). device and kind are
// optional when the topic names them; when both are given they must agree.
type payload struct {
	Device string          `json:"device"`
	Kind   string          `json:"kind"`
	Value  json.RawMessage `json:"value"`
	At     json.RawMessage `json:"at"`
}

// Parse reads a payload. kind and device come from the MQTT topic ("" over
// HTTP, where the body names them). A payload that contradicts its topic's
// device is malformed; one that names another kind is WrongKind later.
func Parse(kind, device string, body []byte) (Reading, Problem) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Reading{Device: device, Kind: kind}, Malformed
	}
	return p.reading(kind, device)
}

// ParseBatch reads an HTTP body: a JSON array of payloads, each naming its
// device and kind. It returns one reading and one problem per element, or
// an error when the body is not an array at all.
func ParseBatch(body []byte) ([]Reading, []Problem, error) {
	var ps []json.RawMessage
	if err := json.Unmarshal(body, &ps); err != nil {
		return nil, nil, apperr.Field("body", "须为读数数组（JSON）")
	}
	rs := make([]Reading, len(ps))
	probs := make([]Problem, len(ps))
	for i, raw := range ps {
		var p payload
		if err := json.Unmarshal(raw, &p); err != nil {
			probs[i] = Malformed
			continue
		}
		rs[i], probs[i] = p.reading("", "")
	}
	return rs, probs, nil
}

func (p payload) reading(kind, device string) (Reading, Problem) {
	r := Reading{Device: device, Kind: kind}
	if device != "" && p.Device != "" && p.Device != device {
		return r, Malformed
	}
	if r.Device == "" {
		r.Device = p.Device
	}
	if p.Kind != "" {
		if kind != "" && p.Kind != kind {
			r.Kind = p.Kind
			return r, WrongKind
		}
		r.Kind = p.Kind
	}
	if r.Device == "" || len(p.Value) == 0 || len(p.At) == 0 {
		return r, Malformed
	}
	v, err := strconv.ParseFloat(string(p.Value), 64)
	if err != nil || !finite(v) {
		return r, Malformed
	}
	r.Value = v
	var s string
	if json.Unmarshal(p.At, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return r, Malformed
		}
		r.At = t.UTC()
	} else {
		n, err := strconv.ParseInt(string(p.At), 10, 64)
		if err != nil || n <= 0 {
			return r, Malformed
		}
		r.At = time.UnixMilli(n).UTC()
	}
	return r, OK
}

// Topic is the MQTT topic of a device's readings under a prefix
// ("zhizhi/readings" → zhizhi/readings/{kind}/{device}).
func Topic(prefix, kind, device string) string {
	return prefix + "/" + kind + "/" + device
}

// SplitTopic returns the kind and device a topic names under the prefix.
func SplitTopic(prefix, topic string) (kind, device string, err error) {
	rest, ok := strings.CutPrefix(topic, prefix+"/")
	if !ok {
		return "", "", fmt.Errorf("topic %q is not under %q", topic, prefix)
	}
	kind, device, ok = strings.Cut(rest, "/")
	if !ok || !ValidCode(kind) || !ValidCode(device) {
		return "", "", fmt.Errorf("topic %q does not name a kind and a device", topic)
	}
	return kind, device, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
