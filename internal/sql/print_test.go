package sql

import (
	"fmt"
	"strings"
)

// show renders a statement, query, FROM item or expression as SQL with
// every operator parenthesised, so that tests can compare tree shapes
// without spelling out positions.
func show(n any) string {
	var b strings.Builder
	write(&b, n)
	return b.String()
}

func quoteStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func writeList[T any](b *strings.Builder, xs []T) {
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		write(b, x)
	}
}

func write(b *strings.Builder, n any) {
	switch n := n.(type) {
	case nil:
		b.WriteString("<nil>")
	case string:
		b.WriteString(n)
	case *CreateTable:
		b.WriteString("CREATE TABLE ")
		if n.IfNotExists {
			b.WriteString("IF NOT EXISTS ")
		}
		b.WriteString(n.Name + " (")
		for i, c := range n.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name + " " + c.Type.String())
		}
		b.WriteString(")")
		if n.Options != nil {
			b.WriteString(" WITH (")
			for i, o := range n.Options {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteStr(o.Key) + " = " + quoteStr(o.Value))
			}
			b.WriteString(")")
		}
	case *CreateFunction:
		b.WriteString("CREATE ")
		if n.Temporary {
			b.WriteString("TEMPORARY ")
		}
		if n.System {
			b.WriteString("SYSTEM ")
		}
		b.WriteString("FUNCTION ")
		if n.IfNotExists {
			b.WriteString("IF NOT EXISTS ")
		}
		fmt.Fprintf(b, "%s AS %s LANGUAGE %s", n.Name, quoteStr(n.Path), n.Language)
	case *Set:
		fmt.Fprintf(b, "SET %s = %s", quoteStr(n.Key), quoteStr(n.Value))
	case *Reset:
		fmt.Fprintf(b, "RESET %s", quoteStr(n.Key))
	case *Insert:
		mode := "INTO"
		if n.Overwrite {
			mode = "OVERWRITE"
		}
		fmt.Fprintf(b, "INSERT %s %s ", mode, n.Table)
		write(b, n.Query)
	case *SelectStmt:
		write(b, n.Query)
	case *Select:
		b.WriteString("SELECT ")
		if n.Distinct {
			b.WriteString("DISTINCT ")
		}
		writeList(b, n.Items)
		if n.From != nil {
			b.WriteString(" FROM ")
			write(b, n.From)
		}
		if n.Where != nil {
			b.WriteString(" WHERE ")
			write(b, n.Where)
		}
		if n.GroupBy != nil {
			b.WriteString(" GROUP BY ")
			writeList(b, n.GroupBy)
		}
		if n.Having != nil {
			b.WriteString(" HAVING ")
			write(b, n.Having)
		}
		if n.OrderBy != nil {
			b.WriteString(" ORDER BY ")
			writeList(b, n.OrderBy)
		}
		if n.Limit >= 0 {
			fmt.Fprintf(b, " LIMIT %d", n.Limit)
		}
		if n.Offset > 0 {
			fmt.Fprintf(b, " OFFSET %d", n.Offset)
		}
	case OrderItem:
		write(b, n.X)
		if n.Desc {
			b.WriteString(" DESC")
		}
		if n.Nulls != "" {
			b.WriteString(" NULLS " + n.Nulls)
		}
	case SelectItem:
		switch {
		case n.Star && n.StarQualifier != "":
			b.WriteString(n.StarQualifier + ".*")
		case n.Star:
			b.WriteString("*")
		default:
			write(b, n.Expr)
		}
		if n.Alias != "" {
			b.WriteString(" AS " + n.Alias)
		}
	case *TableRef:
		b.WriteString(n.Name)
		writeAlias(b, n.Alias, nil)
	case *Values:
		b.WriteString("(VALUES ")
		for i, row := range n.Rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			writeList(b, row)
			b.WriteString(")")
		}
		b.WriteString(")")
		writeAlias(b, n.Alias, n.Columns)
	case *Subquery:
		b.WriteString("(")
		write(b, n.Query)
		b.WriteString(")")
		writeAlias(b, n.Alias, n.Columns)
	case *Lateral:
		write(b, n.Left)
		fmt.Fprintf(b, " %s LATERAL TABLE(", n.Kind)
		write(b, n.Call)
		b.WriteString(")")
		writeAlias(b, n.Alias, n.Columns)
		if n.On != nil {
			b.WriteString(" ON ")
			write(b, n.On)
		}
	case *Ident:
		b.WriteString(strings.Join(n.Parts, "."))
	case *Literal:
		switch n.Kind {
		case LitString:
			b.WriteString(quoteStr(n.Text))
		case LitBinary:
			b.WriteString("X" + quoteStr(n.Text))
		case LitDate, LitTime, LitTimestamp, LitTimestampLTZ:
			b.WriteString(n.Kind.String() + " " + quoteStr(n.Text))
		default:
			b.WriteString(n.Text)
		}
	case *Unary:
		sep := ""
		if n.Op == "NOT" {
			sep = " "
		}
		b.WriteString("(" + n.Op + sep)
		write(b, n.X)
		b.WriteString(")")
	case *Binary:
		b.WriteString("(")
		write(b, n.L)
		b.WriteString(" " + n.Op + " ")
		write(b, n.R)
		b.WriteString(")")
	case *IsNull:
		b.WriteString("(")
		write(b, n.X)
		b.WriteString(" IS " + not(n.Not) + "NULL)")
	case *IsBool:
		b.WriteString("(")
		write(b, n.X)
		fmt.Fprintf(b, " IS %s%s)", not(n.Not), strings.ToUpper(fmt.Sprint(n.Value)))
	case *Between:
		b.WriteString("(")
		write(b, n.X)
		b.WriteString(" " + not(n.Not) + "BETWEEN ")
		write(b, n.Lo)
		b.WriteString(" AND ")
		write(b, n.Hi)
		b.WriteString(")")
	case *InList:
		b.WriteString("(")
		write(b, n.X)
		b.WriteString(" " + not(n.Not) + "IN (")
		writeList(b, n.List)
		b.WriteString("))")
	case *Like:
		b.WriteString("(")
		write(b, n.X)
		op := "LIKE "
		if n.Similar {
			op = "SIMILAR TO "
		}
		b.WriteString(" " + not(n.Not) + op)
		write(b, n.Pattern)
		if n.Escape != nil {
			b.WriteString(" ESCAPE ")
			write(b, n.Escape)
		}
		b.WriteString(")")
	case *FuncCall:
		b.WriteString(n.Name + "(")
		if n.Star {
			b.WriteString("*")
		}
		if n.Distinct {
			b.WriteString("DISTINCT ")
		}
		writeList(b, n.Args)
		b.WriteString(")")
		if n.Filter != nil {
			b.WriteString(" FILTER (WHERE ")
			write(b, n.Filter)
			b.WriteString(")")
		}
	case *Cast:
		if n.Try {
			b.WriteString("TRY_")
		}
		b.WriteString("CAST(")
		write(b, n.X)
		b.WriteString(" AS " + n.Type.String() + ")")
	case *Case:
		b.WriteString("CASE")
		if n.Operand != nil {
			b.WriteString(" ")
			write(b, n.Operand)
		}
		for _, w := range n.Whens {
			b.WriteString(" WHEN ")
			write(b, w.Cond)
			b.WriteString(" THEN ")
			write(b, w.Result)
		}
		if n.Else != nil {
			b.WriteString(" ELSE ")
			write(b, n.Else)
		}
		b.WriteString(" END")
	case Expr:
		fmt.Fprintf(b, "<%T>", n)
	default:
		fmt.Fprintf(b, "<%T>", n)
	}
}

func writeAlias(b *strings.Builder, alias string, cols []string) {
	if alias != "" {
		b.WriteString(" AS " + alias)
	}
	if cols != nil {
		b.WriteString("(" + strings.Join(cols, ", ") + ")")
	}
}

func not(n bool) string {
	if n {
		return "NOT "
	}
	return ""
}
