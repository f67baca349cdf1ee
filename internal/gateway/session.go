package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// memoryConnector is the connector of tables the client sent as Arrow
// (from_elements, from_pandas); their rows live in the session.
const memoryConnector = plan.MemoryConnector

// Session is one client's catalog and settings: the tables, views and
// functions it declared, which every later statement sees.
type Session struct {
	// opts are the session's options: the engine's -D flags, then
	// TableConfig.set, SET and RESET in order.
	opts *config.Session
	// ddl are the CREATE TABLE and CREATE FUNCTION statements so far, in
	// order, planned again in front of each query (planning is cheap;
	// function descriptions are cached).
	ddl    []sql.Statement
	tables map[string]*memTable // in-memory tables, by lower-case name
	// funcDir holds the modules of pickled functions; it is on the
	// workers' python.files.
	funcDir   string
	funcSeq   int
	described map[string]plan.FunctionInfo
	log       *slog.Logger
	python    string
}

// NewSession returns a session with the given initial settings; dir is a
// private directory the session may write (pickled functions go there).
func NewSession(settings map[string]string, dir string, python string, log *slog.Logger) (*Session, error) {
	fd := filepath.Join(dir, "functions")
	if err := os.Mkdir(fd, 0o700); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s := &Session{opts: config.NewSession(settings), tables: map[string]*memTable{},
		funcDir: fd, described: map[string]plan.FunctionInfo{}, log: log, python: python}
	return s, nil
}

// runSettings are the settings a job runs with: the session's, with the
// directory of pickled functions on python.files.
func (s *Session) runSettings() map[string]string {
	m := s.opts.Map()
	if f := m["python.files"]; f != "" {
		m["python.files"] = s.funcDir + "," + f
	} else {
		m["python.files"] = s.funcDir
	}
	if m["python.executable"] == "" {
		m["python.executable"] = s.python
	}
	return m
}

// describe describes Python functions once per path: a session's
// functions are planned again with each query.
func (s *Session) describe(ctx context.Context) plan.Describer {
	return func(paths []string) (map[string]plan.FunctionInfo, map[string]error, error) {
		out := map[string]plan.FunctionInfo{}
		var todo []string
		for _, p := range paths {
			if fi, ok := s.described[p]; ok {
				out[p] = fi
			} else {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			return out, nil, nil
		}
		rs := s.runSettings()
		js, err := job.ParseSettings(rs)
		if err != nil {
			return nil, nil, err
		}
		infos, errs, err := pyexec.Describe(ctx, rs["python.executable"], js.PyFiles, todo)
		if err != nil {
			return nil, nil, err
		}
		for k, fi := range infos {
			info := plan.FunctionInfo{Kind: fi.Kind, InputTypes: fi.InputTypes, ResultTypes: fi.ResultTypes,
				Deterministic: fi.Deterministic, FuncType: fi.FuncType, MinArgs: fi.MinArgs, MaxArgs: fi.MaxArgs}
			out[k] = info
			if errs[k] == nil {
				s.described[k] = info
			}
		}
		return out, errs, nil
	}
}

// plan plans the session's declarations followed by extra statements.
func (s *Session) plan(ctx context.Context, extra ...sql.Statement) (*plan.Program, error) {
	stmts := make([]sql.Statement, 0, len(s.tables)+len(s.ddl)+len(extra))
	for _, t := range s.tables {
		stmts = append(stmts, t.createStmt())
	}
	stmts = append(stmts, s.ddl...)
	stmts = append(stmts, extra...)
	p := &plan.Planner{Describe: s.describe(ctx), Settings: s.runSettings()}
	return p.Plan(stmts)
}

// Execute runs one SQL statement, as TableEnvironment.execute_sql: a
// declaration is added to the session, SET and RESET change its settings,
// INSERT runs a job, and SELECT runs a job whose rows are returned.
func (s *Session) Execute(ctx context.Context, text string) (*Response, []byte, error) {
	st, err := parseOne(text)
	if err != nil {
		return nil, nil, err
	}
	switch st := st.(type) {
	case *sql.CreateTable:
		if s.known(st.Name) && !st.IfNotExists {
			return nil, nil, &sql.Error{Pos: st.At, Msg: fmt.Sprintf("table %s is already defined", st.Name)}
		}
		if _, err := s.plan(ctx, st); err != nil {
			return nil, nil, err
		}
		s.ddl = append(s.ddl, st)
		return &Response{OK: true, Kind: "ddl"}, nil, nil
	case *sql.CreateFunction:
		if _, err := s.plan(ctx, st); err != nil {
			return nil, nil, err
		}
		s.ddl = append(s.ddl, st)
		return &Response{OK: true, Kind: "ddl"}, nil, nil
	case *sql.CreateView:
		if s.known(st.Name) {
			if st.IfNotExists {
				return &Response{OK: true, Kind: "ddl"}, nil, nil
			}
			return nil, nil, &sql.Error{Pos: st.At, Msg: fmt.Sprintf("a table or view named %s already exists; drop it first or pick another name", st.Name)}
		}
		resp, err := s.addView(ctx, st)
		return resp, nil, err
	case *sql.Set:
		if st.Key == "" {
			return nil, nil, &sql.Error{Pos: st.At, Msg: "SET without a key (listing the configuration) is not supported; use get_config().get(key)"}
		}
		if err := s.opts.Set(st.Key, st.Value); err != nil {
			return nil, nil, &sql.Error{Pos: st.At, Msg: err.Error()}
		}
		return &Response{OK: true, Kind: "set"}, nil, nil
	case *sql.Reset:
		s.opts.Reset(st.Key)
		return &Response{OK: true, Kind: "set"}, nil, nil
	case *sql.Insert:
		if t := s.tables[strings.ToLower(st.Table)]; t != nil {
			return nil, nil, &sql.Error{Pos: st.At, Msg: fmt.Sprintf("table %s was made from Python data (from_elements or from_pandas) and cannot be written; INSERT INTO a table declared with CREATE TABLE", st.Table)}
		}
		prog, err := s.plan(ctx, st)
		if err != nil {
			return nil, nil, err
		}
		j := prog.Jobs[len(prog.Jobs)-1]
		out := &printed{}
		opts := s.jobOptions(nil)
		opts.Out = out
		res, err := job.Run(ctx, j, prog.Settings, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("job failed: %w", err)
		}
		return &Response{OK: true, Kind: "insert", Rows: res.Rows, Output: out.String(),
			Columns: []Column{{Name: "default_catalog.default_database." + j.Sink.Name, Type: "BIGINT"}}}, nil, nil
	case *sql.SelectStmt:
		return s.query(ctx, st)
	}
	return nil, nil, &sql.Error{Pos: st.Pos(), Msg: "this statement is not supported by weir's gateway"}
}

// query runs a SELECT and returns its rows as an Arrow IPC stream.
func (s *Session) query(ctx context.Context, st *sql.SelectStmt) (*Response, []byte, error) {
	prog, err := s.plan(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	j := prog.Jobs[len(prog.Jobs)-1]
	sink := &collectSink{}
	res, err := job.Run(ctx, j, prog.Settings, s.jobOptions(sink))
	if err != nil {
		return nil, nil, fmt.Errorf("job failed: %w", err)
	}
	defer sink.release()
	schema := resultSchema(j) // changelog.go
	body, err := encodeIPC(schema, sink.batches)
	if err != nil {
		return nil, nil, err
	}
	return &Response{OK: true, Kind: "select", Rows: res.Rows, Columns: resultColumns(schema),
		RowKind: hasRowKind(schema)}, body, nil
}

// Schema returns the columns a query gives, without running it.
func (s *Session) Schema(ctx context.Context, text string) (*Response, error) {
	st, err := parseOne(text)
	if err != nil {
		return nil, err
	}
	q, ok := st.(*sql.SelectStmt)
	if !ok {
		return nil, &sql.Error{Pos: st.Pos(), Msg: "want a query (SELECT ...)"}
	}
	prog, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	return &Response{OK: true, Columns: resultColumns(prog.Jobs[len(prog.Jobs)-1].Sink.Schema)}, nil
}

// Explain returns the plan of a query or INSERT.
func (s *Session) Explain(ctx context.Context, text string) (*Response, error) {
	st, err := parseOne(text)
	if err != nil {
		return nil, err
	}
	switch st.(type) {
	case *sql.SelectStmt, *sql.Insert:
	default:
		return nil, &sql.Error{Pos: st.Pos(), Msg: "EXPLAIN needs a query or an INSERT"}
	}
	prog, err := s.plan(ctx, st)
	if err != nil {
		return nil, err
	}
	return &Response{OK: true, Text: prog.Jobs[len(prog.Jobs)-1].Explain()}, nil
}

// CreateView registers a query as a temporary view, as
// create_temporary_view(name, table) and CREATE TEMPORARY VIEW: the view is
// kept as a declaration and planned where it is read, as a subquery, so a
// Table API program and the SQL it stands for run as one plan.
func (s *Session) CreateView(ctx context.Context, name, text string) (*Response, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if s.known(name) {
		return nil, fmt.Errorf("a table or view named %s already exists; drop it first or pick another name", name)
	}
	st, err := parseOne(text)
	if err != nil {
		return nil, err
	}
	q, ok := st.(*sql.SelectStmt)
	if !ok {
		return nil, fmt.Errorf("view %s: want a query (SELECT ...)", name)
	}
	return s.addView(ctx, &sql.CreateView{At: q.Query.At, Name: name, Query: q.Query})
}

// addView plans a view (which checks it) and keeps it.
func (s *Session) addView(ctx context.Context, v *sql.CreateView) (*Response, error) {
	star := &sql.SelectStmt{Query: &sql.Select{At: v.At, Items: []sql.SelectItem{{At: v.At, Star: true}}, From: &sql.TableRef{At: v.At, Name: v.Name}, Limit: -1}}
	prog, err := s.plan(ctx, v, star)
	if err != nil {
		return nil, err
	}
	s.ddl = append(s.ddl, v)
	return &Response{OK: true, Kind: "ddl", Columns: columnsOf(prog.Jobs[len(prog.Jobs)-1].Sink.Schema)}, nil
}

// DropView removes a temporary view or a table sent from Python; it
// reports whether there was one.
func (s *Session) DropView(name string) bool {
	k := strings.ToLower(name)
	t := s.tables[k]
	delete(s.tables, k)
	if t != nil {
		t.release()
		return true
	}
	for i, st := range s.ddl {
		if v, ok := st.(*sql.CreateView); ok && strings.EqualFold(v.Name, name) {
			s.ddl = append(s.ddl[:i], s.ddl[i+1:]...)
			return true
		}
	}
	return false
}

// RegisterTable registers Arrow IPC stream bytes as a table named name,
// with the given columns.
func (s *Session) RegisterTable(name string, cols []Column, body []byte) (int64, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	if s.known(name) {
		return 0, fmt.Errorf("a table or view named %s already exists; drop it first or pick another name", name)
	}
	schema := make(types.Schema, len(cols))
	for i, c := range cols {
		t, err := sql.ParseType(c.Type)
		if err != nil {
			return 0, fmt.Errorf("table %s: column %s: type %q: %w", name, c.Name, c.Type, err)
		}
		schema[i] = types.Field{Name: c.Name, Type: t}
	}
	t, err := decodeIPC(name, schema, body)
	if err != nil {
		return 0, err
	}
	s.tables[strings.ToLower(name)] = t
	return t.rows, nil
}

// RegisterFunction registers a cloudpickled weir function object (a
// wrapper made by udf or udtf) under name. The pickle is written as a
// module on the workers' path, so planning describes it and workers load
// it as any other Python function; describing it also checks that it
// unpickles in a fresh interpreter.
func (s *Session) RegisterFunction(ctx context.Context, name string, pickled []byte) (*Response, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if s.function(name) >= 0 {
		return nil, fmt.Errorf("function %s is already defined; drop_temporary_function('%s') first", name, name)
	}
	if len(pickled) == 0 {
		return nil, fmt.Errorf("function %s: the pickled function is empty", name)
	}
	s.funcSeq++
	mod := fmt.Sprintf("weir_fn_%d", s.funcSeq)
	if err := os.WriteFile(filepath.Join(s.funcDir, mod+".pkl"), pickled, 0o600); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	src := fmt.Sprintf("# Function %q, registered from Python by weir.table: a cloudpickled weir function.\n"+
		"import os as _os\nimport cloudpickle as _cloudpickle\n\n"+
		"with open(_os.path.join(_os.path.dirname(__file__), %q), \"rb\") as _f:\n"+
		"    f = _cloudpickle.load(_f)\n", name, mod+".pkl")
	if err := os.WriteFile(filepath.Join(s.funcDir, mod+".py"), []byte(src), 0o600); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	path := mod + ".f"
	st := &sql.CreateFunction{Name: name, Temporary: true, Path: path, Language: "PYTHON"}
	if _, err := s.plan(ctx, st); err != nil {
		var se *sql.Error
		if errors.As(err, &se) {
			err = errors.New(se.Msg) // the statement is ours: its position means nothing to the client
		}
		if strings.Contains(err.Error(), "ModuleNotFoundError") {
			err = fmt.Errorf("%w\nThe function needs a module that the workers cannot import (cloudpickle ships functions of importable modules by name, not by value): ship it with get_config().set('python.files', '/path/to/module.py')", err)
		}
		return nil, fmt.Errorf("function %s: %w", name, err)
	}
	s.ddl = append(s.ddl, st)
	info := s.described[path]
	resp := &Response{OK: true, Kind: info.Kind}
	for _, t := range info.ResultTypes {
		resp.Columns = append(resp.Columns, Column{Type: t})
	}
	return resp, nil
}

// DropFunction removes a temporary function; it reports whether there was
// one.
func (s *Session) DropFunction(name string) bool {
	i := s.function(name)
	if i < 0 {
		return false
	}
	s.ddl = append(s.ddl[:i], s.ddl[i+1:]...)
	return true
}

// function returns the index in ddl of the function named name, or -1.
func (s *Session) function(name string) int {
	for i, st := range s.ddl {
		if f, ok := st.(*sql.CreateFunction); ok && strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// known reports whether name is a table or view of the session.
func (s *Session) known(name string) bool {
	if _, ok := s.tables[strings.ToLower(name)]; ok {
		return true
	}
	for _, st := range s.ddl {
		if t, ok := st.(*sql.CreateTable); ok && strings.EqualFold(t.Name, name) {
			return true
		}
		if v, ok := st.(*sql.CreateView); ok && strings.EqualFold(v.Name, name) {
			return true
		}
	}
	return false
}

// Set changes settings, as TableConfig.set: all of them, or none when a
// value is bad.
func (s *Session) Set(m map[string]string) error {
	for k, v := range m {
		if err := config.Check(k, v); err != nil {
			return err
		}
	}
	for k, v := range m {
		if err := s.opts.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the session's tables.
func (s *Session) Close() {
	for k, t := range s.tables {
		t.release()
		delete(s.tables, k)
	}
}

// jobOptions are the options of a session's job; sink, when not nil,
// receives the rows instead of the job's own sink.
func (s *Session) jobOptions(sink exec.Sink) job.Options {
	return job.Options{Out: io.Discard, Log: s.log, OpenSource: s.openSource, Sink: sink}
}

// openSource opens the session's in-memory tables for job.Run.
func (s *Session) openSource(t *plan.Table) (exec.Source, bool) {
	if t.Connector() != memoryConnector {
		return nil, false
	}
	mt := s.tables[strings.ToLower(t.Name)]
	if mt == nil {
		return nil, false
	}
	return mt.open(), true
}

// parseOne parses text that must hold exactly one statement.
func parseOne(text string) (sql.Statement, error) {
	stmts, err := sql.Parse(text)
	if err != nil {
		return nil, err
	}
	switch len(stmts) {
	case 0:
		return nil, fmt.Errorf("no SQL statement was given")
	case 1:
		return stmts[0], nil
	}
	return nil, &sql.Error{Pos: stmts[1].Pos(), Msg: "execute_sql runs one statement at a time; use create_statement_set() for several INSERTs"}
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("a name is required")
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("name %q: use letters, digits and '_' only", name)
		}
	}
	return nil
}

func columnsOf(s types.Schema) []Column {
	out := make([]Column, len(s))
	for i, f := range s {
		out[i] = Column{Name: f.Name, Type: f.Type.String()}
	}
	return out
}
