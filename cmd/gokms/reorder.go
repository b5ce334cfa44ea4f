package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags appear anywhere, as tatum-kms users write them
// (`gokms getaddress <id> 3 --path ./w.dat --testnet`): urfave/cli/v2 parses
// global flags only before the command and command flags only before the
// first argument. It returns args rearranged as
//
//	argv0 <global flags> <command> <command flags> [--] <arguments>
//
// Flags that take a value keep it (`--path x` and `--path=x`); everything
// after `--` is an argument; `-` and negative numbers (`-1`) are arguments,
// so that a negative index reaches the command and gets a clear error.
// Unknown flags are kept as flags so that urfave/cli reports them; a flag
// that needs a value but ends the line is an error here. Only one
// level of commands is handled (gokms has no subcommands).
func reorderArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	global := flagTable(app.Flags)
	for _, n := range []string{"help", "h", "version", "v"} {
		global[n] = false
	}
	// Flags of any command, for flags given before the command name.
	anyCmd := map[string]bool{}
	for _, cmd := range app.Commands {
		for n, v := range flagTable(cmd.Flags) {
			anyCmd[n] = anyCmd[n] || v
		}
	}

	var (
		globals, pending, locals, positional []string
		cmdName                              string
		seenCmd                              bool
		cmdFlags                             map[string]bool
	)
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		name, inlineValue, isFlag := splitFlag(a)
		if !isFlag {
			if !seenCmd {
				seenCmd, cmdName = true, a
				if cmd := app.Command(a); cmd != nil {
					cmdFlags = flagTable(cmd.Flags)
				}
				continue
			}
			positional = append(positional, a)
			continue
		}
		takesValue, dest := false, &locals
		switch isHelp := name == "help" || name == "h"; {
		case isHelp && seenCmd:
			// `gokms getaddress --help` is help for the command.
		case hasKey(global, name):
			takesValue, dest = global[name], &globals
		case seenCmd:
			takesValue = cmdFlags[name]
		default:
			takesValue, dest = anyCmd[name], &pending
		}
		*dest = append(*dest, a)
		if takesValue && !inlineValue {
			if i+1 == len(rest) {
				// Moved in front of the command it would swallow the command name.
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			i++
			*dest = append(*dest, rest[i])
		}
	}

	out := append([]string{args[0]}, globals...)
	if !seenCmd {
		// No command: let urfave/cli report any flag it does not know.
		out = append(out, pending...)
		return append(out, positional...), nil
	}
	out = append(out, cmdName)
	out = append(out, pending...)
	out = append(out, locals...)
	for _, p := range positional {
		if strings.HasPrefix(p, "-") && p != "-" {
			out = append(out, "--")
			break
		}
	}
	return append(out, positional...), nil
}

func hasKey(m map[string]bool, k string) bool {
	_, ok := m[k]
	return ok
}

// flagTable maps every name and alias of flags to whether it takes a value.
func flagTable(flags []cli.Flag) map[string]bool {
	t := map[string]bool{}
	for _, f := range flags {
		takes := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			takes = d.TakesValue()
		}
		for _, n := range f.Names() {
			t[n] = takes
		}
	}
	return t
}

// splitFlag recognises -name, --name, -name=value and --name=value. It
// reports whether a value was given inline. "-", "--" and negative numbers
// are not flags.
func splitFlag(a string) (name string, inlineValue, isFlag bool) {
	if len(a) < 2 || a[0] != '-' {
		return "", false, false
	}
	s := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	if s == "" || (s[0] >= '0' && s[0] <= '9') || s[0] == '.' {
		return "", false, false
	}
	if i := strings.IndexByte(s, '='); i >= 0 {
		return s[:i], true, true
	}
	return s, false, true
}
