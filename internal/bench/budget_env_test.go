package bench

import (
	"os"
	"strconv"

	"zhizhi/internal/server"
)

// ZHIZHI_BENCH_WEBHOOK_BUDGET sets the benchmark node's delivery budget,
// deliveries a second while it writes case changes (0: none; unset: the
// default), for measuring the choice of the default.
func init() {
	v := os.Getenv("ZHIZHI_BENCH_WEBHOOK_BUDGET")
	if v == "" {
		return
	}
	rate, err := strconv.ParseFloat(v, 64)
	if err != nil {
		panic("ZHIZHI_BENCH_WEBHOOK_BUDGET: " + err.Error())
	}
	if rate == 0 {
		rate = -1
	}
	platformAdjust = func(c *server.Config) { c.Webhooks.Budget.Rate = rate }
}
