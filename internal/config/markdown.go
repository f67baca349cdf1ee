package config

import (
	"fmt"
	"strings"
)

// Markdown renders the option table as the README shows it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| option | type | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, o := range Options {
		def := o.DefaultDoc
		if def == "" && o.Default != "" {
			def = "`" + o.Default + "`"
		}
		meaning := o.Meaning
		if o.Flink != "" {
			meaning += fmt.Sprintf(" (Flink: %s)", o.Flink)
		}
		if o.WeirOnly {
			meaning += " (weir only: refused on a Flink target)"
		}
		kind := o.Kind.String()
		if o.Kind == Enum {
			kind = "`" + strings.Join(o.Values, "` \\| `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", o.Key, kind, def, meaning)
	}
	return b.String()
}
