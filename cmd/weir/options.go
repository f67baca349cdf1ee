package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/weir-dev/weir/internal/config"
)

// cmdOptions lists the options weir reads, from the one option table.
func cmdOptions(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("weir options", flag.ContinueOnError)
	markdown := fs.Bool("markdown", false, "print the table as Markdown, as in README.md")
	if code, ok := parseFlags(fs, args, "weir options [--markdown]", stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return stray("weir options", fs.Args(), nil, stderr)
	}
	if *markdown {
		fmt.Fprint(stdout, config.Markdown())
		return exitOK
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "OPTION\tTYPE\tDEFAULT\tMEANING")
	for _, o := range config.Options {
		def := o.Default
		if o.DefaultDoc != "" {
			def = o.DefaultDoc
		}
		meaning := o.Meaning
		if o.Flink != "" {
			meaning += fmt.Sprintf(" (Flink: %s)", o.Flink)
		}
		plain := strings.NewReplacer("`", "")
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Key, o.Kind, plain.Replace(def), plain.Replace(meaning))
	}
	w.Flush()
	fmt.Fprintf(stdout, "\nDurations: %s.\nSet options with -D key=value, or SET 'key' = 'value' in a script (it overrides -D for the statements after it).\n", config.DurationFormat)
	return exitOK
}
