// Package id makes time-sortable identifiers: 48 bits of milliseconds since
// the Unix epoch followed by 80 random bits, written as 26 characters of
// Crockford base32 (the ULID layout). Sorting the strings sorts by creation
// time, which keeps keyset pagination and B-tree inserts cheap.
package id

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Generator makes identifiers that are strictly increasing within one process,
// even for many made in the same millisecond.
type Generator struct {
	mu   sync.Mutex
	last [16]byte
	ms   uint64
}

var std Generator

// New returns a fresh identifier for the time now.
func New() string { return std.At(time.Now()) }

// At returns a fresh identifier whose time part is t (used when loading
// historical demo data so that IDs sort like their report times).
func At(t time.Time) string { return std.At(t) }

// At returns a fresh identifier whose time part is t.
func (g *Generator) At(t time.Time) string {
	ms := uint64(t.UnixMilli())
	g.mu.Lock()
	var b [16]byte
	if ms == g.ms {
		// Same millisecond: increment the random part so order holds.
		b = g.last
		for i := 15; i >= 6; i-- {
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	} else {
		binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
		binary.BigEndian.PutUint32(b[2:6], uint32(ms))
		_, _ = rand.Read(b[6:])
		b[6] &= 0x7f // leave room to increment without overflow into the time
		g.ms = ms
	}
	g.last = b
	g.mu.Unlock()
	return encode(b)
}

// Last returns the greatest identifier whose time part is t: every ID made
// at or before t sorts at or below it. It does not touch the generator.
func Last(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	for i := 6; i < 16; i++ {
		b[i] = 0xff
	}
	return encode(b)
}

// First returns the least identifier whose time part is t: every ID made
// at or after t (to the millisecond) sorts at or above it, every ID made
// before t below it. It does not touch the generator.
func First(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	return encode(b)
}

func encode(b [16]byte) string {
	// 128 bits → 26 base32 digits; the first digit carries 3 bits.
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Valid reports whether s looks like an identifier made here.
func Valid(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			return false
		}
	}
	return s[0] <= '7'
}

// Time is the time part of an identifier (to the millisecond); ok is false
// when s is not an identifier.
func Time(s string) (t time.Time, ok bool) {
	if !Valid(s) {
		return time.Time{}, false
	}
	// The first 10 digits carry 50 bits: 2 zero bits and the 48 of the time.
	var ms uint64
	for i := 0; i < 10; i++ {
		ms = ms<<5 | uint64(indexOf(s[i]))
	}
	return time.UnixMilli(int64(ms)), true
}

func indexOf(c byte) int {
	for i := 0; i < len(alphabet); i++ {
		if alphabet[i] == c {
			return i
		}
	}
	return 0
}
