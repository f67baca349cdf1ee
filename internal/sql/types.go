package sql

import (
	"fmt"
	"strconv"

	"github.com/weir-dev/weir/internal/types"
)

// typeNames are the type keywords, for "did you mean" suggestions.
var typeNames = []string{
	"TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "BOOLEAN", "FLOAT", "DOUBLE", "DECIMAL",
	"DEC", "NUMERIC", "CHAR", "VARCHAR", "STRING", "BINARY", "VARBINARY", "BYTES", "DATE", "TIME",
	"TIMESTAMP", "TIMESTAMP_LTZ", "ARRAY", "MAP", "ROW",
}

// typeAliases are type names from other systems that users often write,
// mapped to the Flink type to suggest instead.
var typeAliases = map[string]string{
	"BOOL": "BOOLEAN", "TEXT": "STRING", "LONG": "BIGINT", "SHORT": "SMALLINT", "BYTE": "TINYINT",
	"INT8": "BIGINT", "INT64": "BIGINT", "INT32": "INT", "INT16": "SMALLINT", "REAL": "FLOAT",
	"DATETIME": "TIMESTAMP", "BLOB": "BYTES", "BYTEA": "BYTES", "NVARCHAR": "VARCHAR",
	"LIST": "ARRAY", "STRUCT": "ROW", "FLOAT64": "DOUBLE", "FLOAT32": "FLOAT",
}

// simpleTypes are the types that take no parameters.
var simpleTypes = map[string]types.T{
	"TINYINT": types.TINYINT, "SMALLINT": types.SMALLINT, "INT": types.INT, "INTEGER": types.INT,
	"BIGINT": types.BIGINT, "BOOLEAN": types.BOOLEAN, "FLOAT": types.FLOAT, "DOUBLE": types.DOUBLE,
	"STRING": types.STRING, "BYTES": types.BYTES, "DATE": types.DATE, "NULL": types.NULL,
}

// parseType parses a data type and its optional NOT NULL or NULL.
func (p *parser) parseType() types.T {
	p.enter()
	defer p.leave()
	if p.tok.kind != tWord {
		p.failExpected("a type")
	}
	name := p.tok
	p.next()
	t := p.parseTypeBody(name)
	switch {
	case p.isKw("NOT"):
		p.next()
		if !p.isKw("NULL") {
			p.failExpected("NULL after NOT")
		}
		if t.Kind == types.Null {
			p.fail(p.prev.pos, "the NULL type cannot be NOT NULL")
		}
		p.next()
		t.Nullable = false
	case p.acceptKw("NULL"):
		t.Nullable = true
	}
	return t
}

// parseTypeBody parses the rest of the type whose name token is name.
func (p *parser) parseTypeBody(name token) types.T {
	kw := name.val
	if kw == "INTERVAL" {
		return p.parseIntervalType() // temporal.go
	}
	if t, ok := simpleTypes[kw]; ok {
		if kw == "DOUBLE" {
			p.acceptKw("PRECISION")
		}
		if p.isOp("(") {
			hint := ""
			switch kw {
			case "STRING":
				hint = "; use VARCHAR(n) for a string of at most n characters"
			case "BYTES":
				hint = "; use VARBINARY(n) for at most n bytes"
			}
			p.fail(p.tok.pos, fmt.Sprintf("%s takes no parameters%s", kw, hint))
		}
		return t
	}
	switch kw {
	case "DECIMAL", "DEC", "NUMERIC":
		prec, scale := 10, 0
		if p.acceptOp("(") {
			prec = p.parseTypeParam("DECIMAL precision", "", 1, 38)
			if p.acceptOp(",") {
				scale = p.parseTypeParam("DECIMAL scale", fmt.Sprintf(" (the precision %d)", prec), 0, prec)
			}
			p.expectOp(")")
		}
		return types.DECIMAL(prec, scale)
	case "CHAR", "VARCHAR", "BINARY", "VARBINARY":
		n := 1
		if p.acceptOp("(") {
			n = p.parseTypeParam(kw+" length", "", 1, types.MaxLength)
			p.expectOp(")")
		}
		return types.T{Kind: map[string]types.Kind{"CHAR": types.Char, "VARCHAR": types.Varchar,
			"BINARY": types.Binary, "VARBINARY": types.Varbinary}[kw], Nullable: true, Length: n}
	case "TIME":
		prec := p.parseOptionalPrecision("TIME", 0)
		if p.isKw("WITH") {
			p.fail(p.tok.pos, "TIME WITH TIME ZONE is not supported; use TIME")
		}
		p.parseWithoutTimeZone()
		return types.TIME(prec)
	case "TIMESTAMP":
		prec := p.parseOptionalPrecision("TIMESTAMP", 6)
		if p.isKw("WITH") {
			withAt := p.tok.pos
			p.next()
			if !p.acceptKw("LOCAL") {
				p.fail(withAt, "TIMESTAMP WITH TIME ZONE is not supported (nor by Flink); use TIMESTAMP_LTZ or TIMESTAMP WITH LOCAL TIME ZONE")
			}
			p.expectKw("TIME")
			p.expectKw("ZONE")
			return types.TIMESTAMP_LTZ(prec)
		}
		p.parseWithoutTimeZone()
		return types.TIMESTAMP(prec)
	case "TIMESTAMP_LTZ":
		return types.TIMESTAMP_LTZ(p.parseOptionalPrecision("TIMESTAMP_LTZ", 6))
	case "ARRAY":
		p.expectOp("<")
		elem := p.parseType()
		p.expectOp(">")
		return types.ARRAY(elem)
	case "MAP":
		p.expectOp("<")
		key := p.parseType()
		p.expectOp(",")
		value := p.parseType()
		p.expectOp(">")
		return types.MAP(key, value)
	case "ROW":
		return p.parseRowType()
	case "MULTISET", "RAW", "INTERVAL", "VARIANT", "STRUCTURED", "SYMBOL", "DESCRIPTOR":
		p.fail(name.pos, fmt.Sprintf("type %s is not supported by weir", kw))
	}
	msg := "unknown type " + quoteText(name.text)
	if alias, ok := typeAliases[kw]; ok {
		msg += "; did you mean " + alias + "?"
	} else if s := closest(kw, typeNames); s != "" {
		msg += "; did you mean " + s + "?"
	} else {
		msg += "; expected a type such as INT, STRING, DECIMAL(10, 2), TIMESTAMP(3), ARRAY<INT> or ROW<a INT>"
	}
	p.fail(name.pos, msg)
	return types.T{}
}

// parseWithoutTimeZone parses an optional WITHOUT TIME ZONE.
func (p *parser) parseWithoutTimeZone() {
	if p.acceptKw("WITHOUT") {
		p.expectKw("TIME")
		p.expectKw("ZONE")
	}
}

// parseOptionalPrecision parses an optional (p) with p in 0..9.
func (p *parser) parseOptionalPrecision(kind string, def int) int {
	if !p.acceptOp("(") {
		return def
	}
	prec := p.parseTypeParam(kind+" precision", "", 0, 9)
	p.expectOp(")")
	return prec
}

// parseTypeParam parses an integer type parameter in lo..hi; what names it
// in messages and hiName optionally explains hi.
func (p *parser) parseTypeParam(what, hiName string, lo, hi int) int {
	t := p.tok
	neg := false
	if isOp(t, "-") && p.peek(1).kind == tNumber {
		neg = true
		p.next()
	}
	if p.tok.kind != tNumber || p.tok.num != LitInteger {
		p.failExpected(fmt.Sprintf("the %s (an integer)", what))
	}
	text := p.tok.text
	n, err := strconv.Atoi(text)
	if neg {
		text = "-" + text
		n = -n
	}
	if err != nil || n < lo || n > hi {
		p.fail(t.pos, fmt.Sprintf("%s must be between %d and %d%s, got %s", what, lo, hi, hiName, text))
	}
	p.next()
	return n
}

// parseRowType parses the fields of ROW<name type, ...> or ROW(name type, ...).
func (p *parser) parseRowType() types.T {
	if p.isOp("<>") {
		p.fail(p.tok.pos, "ROW needs at least one field, e.g. ROW<a INT>")
	}
	closing := ">"
	if p.acceptOp("(") {
		closing = ")"
	} else {
		p.expectOp("<")
	}
	if p.isOp(closing) {
		p.fail(p.tok.pos, "ROW needs at least one field, e.g. ROW<a INT>")
	}
	var fields []types.Field
	seen := map[string]bool{}
	for {
		// Field names are not SQL names but a type's, so reserved words are
		// fine here, as in Flink's type parser.
		if p.tok.kind != tWord && p.tok.kind != tQuoted {
			p.failExpected("a field name")
		}
		nameTok := p.tok
		name := nameOf(nameTok)
		if seen[name] {
			p.fail(nameTok.pos, fmt.Sprintf("duplicate field name %s in ROW; field names must be unique", quoteText(name)))
		}
		seen[name] = true
		p.next()
		if p.isOp(",") || p.isOp(closing) {
			p.fail(nameTok.pos, fmt.Sprintf("ROW field %s has no type; write the name and then the type, e.g. ROW<a INT>", quoteText(name)))
		}
		f := types.Field{Name: name, Type: p.parseType()}
		if p.tok.kind == tString {
			p.next() // the field's description, which weir does not keep
		}
		fields = append(fields, f)
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.isOp(closing) {
		p.failExpected("',' or '" + closing + "'")
	}
	p.next()
	return types.ROW(fields...)
}
