// Command zhizhi is the grassroots smart-governance platform: one binary that
// serves the API and console, runs the clocks, and administers the data.
//
//	zhizhi demo     start on an embedded SQLite file with the Yuzhong demo data
//	zhizhi serve    start on the configured database
//	zhizhi migrate  create or upgrade the schema
//	zhizhi user     create an account
package main

import (
	"fmt"
	"os"

	"zhizhi/internal/cli"
)

func main() {
	if err := cli.Run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "zhizhi:", err)
		os.Exit(1)
	}
}
