package bench

import (
	"os"
	"strconv"

	"zhizhi/internal/server"
	"zhizhi/internal/webhook"
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

// exchangeRate is the exchange case's requests a second: the budget's.
func exchangeRate() float64 {
	if r, err := strconv.ParseFloat(os.Getenv("ZHIZHI_BENCH_WEBHOOK_BUDGET"), 64); err == nil && r > 0 {
		return r
	}
	return webhook.DefaultBudget.Rate
}
