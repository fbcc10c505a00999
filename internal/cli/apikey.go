package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"zhizhi/internal/server"
	"zhizhi/internal/service"
)

const apikeyUsage = `usage: zhizhi apikey <create|list|revoke|statuses> [flags]

  create -name NAME -region CODE [-rate N] [-extended-statuses]
                                             make a key; its secret is printed once
  list                                       list keys, active and revoked
  revoke NAME|ID                             revoke a key at once, on every node
  statuses NAME|ID on|off                    FixMyStreet's extended statuses for the key's client
Every subcommand also takes the database flags (-db, ZHIZHI_DB).`

// apikey administers the Open311 API keys.
func apikey(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, apikeyUsage)
		return errors.New("apikey: no subcommand")
	}
	sub := args[0]
	fs := flag.NewFlagSet("apikey "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	if err := common(fs, &cfg, false); err != nil {
		return err
	}
	var in service.NewAPIKey
	switch sub {
	case "create":
		fs.StringVar(&in.Name, "name", "", "the key's name: who uses it (an app, a bureau's system)")
		fs.StringVar(&in.RegionCode, "region", "", "code of the region the key may report into")
		fs.IntVar(&in.RatePerMinute, "rate", service.DefaultKeyRate, "reports a minute the key may make")
		fs.BoolVar(&in.ExtendedStatuses, "extended-statuses", false, "the client reads FixMyStreet's extended statuses (investigating, in_progress, fixed…)")
		fs.BoolVar(&in.Hotline, "hotline", false, "the key of the 12345 hotline platform: it sends work orders and return visits (POST /api/v1/hotline/...)")
	case "list", "revoke", "statuses":
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, apikeyUsage)
		return nil
	default:
		fmt.Fprintln(stderr, apikeyUsage)
		return fmt.Errorf("apikey: unknown subcommand %q", sub)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	p, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	svc := p.Service
	switch sub {
	case "create":
		secret, k, err := svc.CreateAPIKey(ctx, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created API key %s (%s) for %s, %d reports a minute\n", k.Name, k.ID, regionName(svc, k.RegionPath), k.RatePerMinute)
		fmt.Fprintf(stdout, "api_key: %s\n(shown once: only its hash is stored)\n", secret)
	case "list":
		keys, err := svc.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREGION\tRATE/MIN\tSTATUSES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if !k.Active() {
				revoked = k.RevokedAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", k.ID, k.Name, regionName(svc, k.RegionPath), k.RatePerMinute, statusWords(k.ExtendedStatuses),
				k.CreatedAt.Local().Format("2006-01-02 15:04"), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, apikeyUsage)
			return errors.New("apikey revoke: name the key (its name or ID)")
		}
		k, err := svc.RevokeAPIKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked API key %s (%s)\n", k.Name, k.ID)
	case "statuses":
		if fs.NArg() != 2 || (fs.Arg(1) != "on" && fs.Arg(1) != "off") {
			fmt.Fprintln(stderr, apikeyUsage)
			return errors.New("apikey statuses: name the key (its name or ID) and on or off")
		}
		k, err := svc.SetAPIKeyStatuses(ctx, fs.Arg(0), fs.Arg(1) == "on")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s (%s) reads %s statuses\n", k.Name, k.ID, statusWords(k.ExtendedStatuses))
	}
	return nil
}

func statusWords(extended bool) string {
	if extended {
		return "extended"
	}
	return "open/closed"
}

// regionName shows a region path by its name and code.
func regionName(svc *service.Service, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	code := parts[len(parts)-1]
	if name := svc.RegionName(code); name != "" {
		return name + " " + code
	}
	return path
}
