package storetest

import "math/rand/v2"

// RandomHan is n Chinese characters drawn at random from the common block,
// the same for the same seed: a text that compresses poorly, as a
// resident's long description does.
func RandomHan(seed uint64, n int) string {
	rnd := rand.New(rand.NewPCG(seed, 39))
	r := make([]rune, n)
	for i := range r {
		r[i] = rune(0x4e00 + rnd.IntN(0x9fa5-0x4e00+1))
	}
	return string(r)
}
