package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestReorderArgs(t *testing.T) {
	app := &cli.App{
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "path"},
			&cli.BoolFlag{Name: "testnet"},
			&cli.StringFlag{Name: "apiKey", Aliases: []string{"api-key"}},
		},
		Commands: []*cli.Command{
			{Name: "getaddress"},
			{Name: "daemon", Flags: []cli.Flag{
				&cli.IntFlag{Name: "period"},
				&cli.BoolFlag{Name: "runOnce"},
			}},
		},
	}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"--help", "--help"},
		{"getaddress id 3", "getaddress id 3"},
		// tatum-kms style: flags after the arguments.
		{"getaddress id 3 --path ./w.dat --testnet", "--path ./w.dat --testnet getaddress id 3"},
		{"getaddress --path=./w.dat id --testnet 3", "--path=./w.dat --testnet getaddress id 3"},
		{"--path w getaddress id 3", "--path w getaddress id 3"},
		{"-path w getaddress id 3", "-path w getaddress id 3"},
		// A value that looks like a flag is still the value.
		{"getaddress id 3 --path --testnet", "--path --testnet getaddress id 3"},
		// Negative numbers and "-" are arguments; "--" protects them from flag parsing.
		{"getaddress id -1 --testnet", "--testnet getaddress -- id -1"},
		{"getaddress id - --testnet", "--testnet getaddress id -"},
		// Everything after -- is an argument.
		{"getaddress --testnet -- --path x", "--testnet getaddress -- --path x"},
		// Command flags go after the command, global ones before it.
		{"daemon --testnet --period 10 --api-key=k --runOnce", "--testnet --api-key=k daemon --period 10 --runOnce"},
		{"--period 10 daemon --path w", "--path w daemon --period 10"},
		{"daemon --runOnce x --period=3", "daemon --runOnce --period=3 x"},
		// Help after a command is that command's help.
		{"getaddress --help", "getaddress --help"},
		{"getaddress id 1 -h", "getaddress -h id 1"},
		// Unknown flags stay flags, after the command, so urfave/cli reports them.
		{"getaddress id 1 --bogus", "getaddress --bogus id 1"},
		{"--bogus", "--bogus"},
		// Unknown command: everything still reaches the app, which reports it.
		{"frobnicate a --path w", "--path w frobnicate a"},
	} {
		in := append([]string{"gokms"}, strings.Fields(tc.in)...)
		out, err := reorderArgs(app, in)
		if err != nil {
			t.Errorf("reorderArgs(%q): %v", tc.in, err)
			continue
		}
		got := strings.Join(out[1:], " ")
		if got != tc.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReorderArgsMissingValue(t *testing.T) {
	app := &cli.App{Flags: []cli.Flag{&cli.StringFlag{Name: "path"}}, Commands: []*cli.Command{{Name: "getaddress"}}}
	// Moved before the command, a value-less --path would take the command
	// name as its value; it is reported instead.
	_, err := reorderArgs(app, []string{"gokms", "getaddress", "id", "3", "--path"})
	if err == nil || err.Error() != "flag needs an argument: --path" {
		t.Fatalf("got %v, want flag needs an argument: --path", err)
	}
}

func TestSplitFlag(t *testing.T) {
	for _, tc := range []struct {
		in           string
		name         string
		inline, flag bool
	}{
		{"--path", "path", false, true},
		{"-path=x", "path", true, true},
		{"--path=", "path", true, true},
		{"-1", "", false, false},
		{"--5", "", false, false},
		{"-", "", false, false},
		{"--", "", false, false},
		{"abc", "", false, false},
	} {
		name, inline, flag := splitFlag(tc.in)
		if name != tc.name || inline != tc.inline || flag != tc.flag {
			t.Errorf("splitFlag(%q) = %q, %v, %v; want %q, %v, %v", tc.in, name, inline, flag, tc.name, tc.inline, tc.flag)
		}
	}
}
