package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// extraDecimals are DECIMAL precisions beside scalarTypes' (38 and 5): the
// edges of the 64-bit unscaled value (18 and 19 digits), one digit, and a
// scale equal to the precision.
var extraDecimals = []struct {
	sqlType string
	values  [3]string
}{
	{"DECIMAL(1, 0)", [3]string{"-9", "9", "0"}},
	{"DECIMAL(18, 4)", [3]string{"'-99999999999999.9999'", "'99999999999999.9999'", "0.0001"}},
	{"DECIMAL(19, 0)", [3]string{"'-9999999999999999999'", "'9999999999999999999'", "0"}},
	{"DECIMAL(10, 10)", [3]string{"-0.9999999999", "0.9999999999", "0.0000000001"}},
}

// TestVectorizedTypesIdentityBothModes: in batch and in streaming mode, every
// scalar type (with more DECIMAL precisions) and every nested type of
// nestedKinds, with NULLs, comes back identical through an identity pandas
// function, an identity Arrow function and an identity per-row function,
// and identical to the values without any function. Each form writes to a
// print sink of its own, told apart by its print-identifier. A NULL ROW
// value is left out (rows i > 0 only): through pandas it arrives as a row of
// NULL fields, as in PyFlink (TestVectorizedNestedTypesIdentity).
func TestVectorizedTypesIdentityBothModes(t *testing.T) {
	var scalars []string
	var rows [3][]string
	for _, st := range scalarTypes {
		scalars = append(scalars, st.sqlType)
		for r := range rows {
			rows[r] = append(rows[r], st.values[r])
		}
	}
	for _, st := range extraDecimals {
		scalars = append(scalars, st.sqlType)
		for r := range rows {
			rows[r] = append(rows[r], st.values[r])
		}
	}
	forms := []string{"none", "general", "pandas", "arrow"}
	udfs := nestedUDFs + "\n"
	var creates []string
	fn := func(form, name, sqlType string) string {
		if form == "none" {
			return ""
		}
		f := fmt.Sprintf("%s_%s", form, name)
		udfs += fmt.Sprintf("%s = udf(lambda x: x, result_type=%q, func_type=%q)\n", f, sqlType, form)
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION %s AS 'udfs.%s' LANGUAGE PYTHON;", f, f))
		return f
	}
	var sinks, inserts []string
	// Scalars: three rows of values and a row of NULLs.
	var values []string
	for r := 0; r < 4; r++ {
		var v []string
		for i, c := range scalars {
			lit := "NULL"
			if r < 3 {
				lit = rows[r][i]
			}
			v = append(v, fmt.Sprintf("CAST(%s AS %s)", lit, c))
		}
		values = append(values, fmt.Sprintf("(%d, %s)", r, strings.Join(v, ", ")))
	}
	var names []string
	for i := range scalars {
		names = append(names, fmt.Sprintf("c%d", i))
	}
	from := fmt.Sprintf("(VALUES %s) AS t(i, %s)", strings.Join(values, ", "), strings.Join(names, ", "))
	nums := "(VALUES (0), (1), (2), (3), (4), (5)) AS t(i)"
	for _, k := range nestedKinds {
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION mk_%s AS 'udfs.mk_%s' LANGUAGE PYTHON;", k.name, k.name))
	}
	for _, form := range forms {
		var cols, sel []string
		for i, c := range scalars {
			cols = append(cols, fmt.Sprintf("c%d %s", i, c))
			if f := fn(form, fmt.Sprintf("s%d", i), c); f != "" {
				sel = append(sel, fmt.Sprintf("%s(c%d)", f, i))
			} else {
				sel = append(sel, fmt.Sprintf("c%d", i))
			}
		}
		sinks = append(sinks, fmt.Sprintf("CREATE TABLE s_%s (i INT, %s) WITH ('connector' = 'print', 'print-identifier' = 's_%s');",
			form, strings.Join(cols, ", "), form))
		inserts = append(inserts, fmt.Sprintf("INSERT INTO s_%s SELECT i, %s FROM %s;", form, strings.Join(sel, ", "), from))
		for _, k := range nestedKinds {
			arg := fmt.Sprintf("mk_%s(i)", k.name)
			if f := fn(form, "n_"+k.name, k.sqlType); f != "" {
				arg = fmt.Sprintf("%s(%s)", f, arg)
			}
			where := ""
			if k.name == "row" {
				where = " WHERE i > 0"
			}
			sinks = append(sinks, fmt.Sprintf("CREATE TABLE n_%s_%s (i INT, v %s) WITH ('connector' = 'print', 'print-identifier' = 'n_%s_%s');",
				k.name, form, k.sqlType, k.name, form))
			inserts = append(inserts, fmt.Sprintf("INSERT INTO n_%s_%s SELECT i, %s FROM %s%s;", k.name, form, arg, nums, where))
		}
	}
	body := strings.Join(sinks, "\n") + "\n" + strings.Join(creates, "\n") + "\n" + strings.Join(inserts, "\n")
	for _, mode := range []string{"batch", "streaming"} {
		mode := mode
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			script := fmt.Sprintf("SET 'execution.runtime-mode' = '%s';\n%s", mode, body)
			r, _ := jobIn(t, "1", script, map[string]string{"udfs.py": udfs}, "-D", "python.fn-execution.arrow.batch.size=2")
			r.mustSucceed(t)
			// sink -> its rows, sorted (the pipelines' lines interleave).
			bySink := map[string][]string{}
			for _, l := range r.lines() {
				id, row, ok := strings.Cut(l, "> ")
				if !ok {
					t.Fatalf("a line without a print-identifier: %q\n%s", l, r.stderr)
				}
				bySink[id] = append(bySink[id], row)
			}
			groups := []string{"s"}
			for _, k := range nestedKinds {
				groups = append(groups, "n_"+k.name)
			}
			for _, g := range groups {
				want := bySink[g+"_none"]
				sort.Strings(want)
				n := 4
				if g != "s" {
					n = 6
				}
				if g == "n_row" {
					n = 5
				}
				if len(want) != n {
					t.Fatalf("%s_none printed %d rows, want %d:\n%s\n%s", g, len(want), n, strings.Join(want, "\n"), r.stderr)
				}
				if g == "s" && !strings.Contains(strings.Join(want, "\n"), "+I[3, null, null") {
					t.Errorf("the row of NULLs is missing from s_none:\n%s", strings.Join(want, "\n"))
				}
				for _, form := range forms[1:] {
					got := bySink[g+"_"+form]
					sort.Strings(got)
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("%s mode, %s through the %s identity differs from the values themselves\n--- got\n%s\n--- want\n%s",
							mode, g, form, strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
				}
			}
		})
	}
}
