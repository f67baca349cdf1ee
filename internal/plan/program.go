package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Planner plans SQL scripts.
type Planner struct {
	// Describe looks up Python functions; required when the script has any.
	Describe Describer
	// Settings are the initial options (-D flags, a session's settings);
	// SET overrides them for the statements that follow it, and RESET
	// returns to them (config.Session).
	Settings map[string]string
}

// catalog holds what the statements declared so far.
type catalog struct {
	tables    map[string]*Table
	functions map[string]*expr.PyFunc
	// arity bounds the argument count of each function: [min, max], max < 0
	// meaning any.
	arity map[*expr.PyFunc][2]int
	// views are the views declared with CREATE VIEW (view.go).
	views map[string]*sql.CreateView
	// streaming is set while a statement in streaming mode is planned.
	streaming bool
	// opts are the session's options (the time zone); now is the current
	// time of the statement being planned (temporal.go).
	opts *config.Session
	now  time.Time
}

func (c *catalog) table(name string) *Table {
	if t, ok := c.tables[strings.ToLower(name)]; ok {
		return t
	}
	return nil
}

// Plan plans every statement of a script, in order.
func (p *Planner) Plan(stmts []sql.Statement) (*Program, error) {
	prog := &Program{Tables: map[string]*Table{}}
	opts := config.NewSession(p.Settings)
	cat := &catalog{tables: prog.Tables, functions: map[string]*expr.PyFunc{}, arity: map[*expr.PyFunc][2]int{}, opts: opts}
	if err := p.describeFunctions(stmts, cat); err != nil {
		return nil, err
	}
	for _, st := range stmts {
		cat.now = time.Time{} // each statement reads the clock once
		switch st := st.(type) {
		case *sql.CreateTable:
			if err := createTable(cat, st); err != nil {
				return nil, err
			}
		case *sql.CreateFunction:
			// Described above.
		case *sql.CreateView:
			if err := createView(cat, st); err != nil {
				return nil, err
			}
		case *sql.Set:
			if err := opts.Set(st.Key, st.Value); err != nil {
				return nil, errAt(st.Pos(), "%v", err)
			}
		case *sql.Reset:
			opts.Reset(st.Key)
		case *sql.Insert:
			settings, params, err := jobOptions(opts, st.Pos())
			if err != nil {
				return nil, err
			}
			cat.streaming = streamingMode(settings)
			job, err := planInsert(cat, st, params)
			if err != nil {
				return nil, err
			}
			markStreamingSink(job) // partitions.go
			job.Settings = settings
			if err := checkKafkaSink(st, job); err != nil {
				return nil, err
			}
			prog.Jobs = append(prog.Jobs, job)
		case *sql.SelectStmt:
			settings, params, err := jobOptions(opts, st.Pos())
			if err != nil {
				return nil, err
			}
			cat.streaming = streamingMode(settings)
			job, err := planSelect(cat, st, params)
			if err != nil {
				return nil, err
			}
			job.Settings = settings
			prog.Jobs = append(prog.Jobs, job)
		default:
			return nil, errAt(st.Pos(), "this statement is not supported")
		}
	}
	prog.Settings = opts.Map()
	return prog, nil
}

// describeFunctions resolves every CREATE FUNCTION of the script with one
// call of the Describer, so that import problems show before data flows.
func (p *Planner) describeFunctions(stmts []sql.Statement, cat *catalog) error {
	var defs []*sql.CreateFunction
	var paths []string
	for _, st := range stmts {
		f, ok := st.(*sql.CreateFunction)
		if !ok {
			continue
		}
		if f.Language != "PYTHON" {
			return errAt(f.At, "function %s is declared LANGUAGE %s; weir runs only LANGUAGE PYTHON functions", f.Name, f.Language)
		}
		name := strings.ToLower(f.Name)
		if _, dup := cat.functions[name]; dup && !f.IfNotExists {
			return errAt(f.At, "function %s is already defined", f.Name)
		}
		mod, attr, ok := splitPath(f.Path)
		if !ok {
			return errAt(f.PathAt, "function path %q must be 'module.attribute', e.g. 'udfs.inc'", f.Path)
		}
		cat.functions[name] = &expr.PyFunc{Name: f.Name, Module: mod, Attr: attr}
		defs = append(defs, f)
		paths = append(paths, f.Path)
	}
	if len(defs) == 0 {
		return nil
	}
	if p.Describe == nil {
		return fmt.Errorf("plan: no Python to describe functions with")
	}
	infos, errs, err := p.Describe(paths)
	if err != nil {
		return err
	}
	for _, f := range defs {
		if e := errs[f.Path]; e != nil {
			return errAt(f.PathAt, "cannot load Python function %s = '%s': %v", f.Name, f.Path, e)
		}
		info, ok := infos[f.Path]
		if !ok {
			return errAt(f.PathAt, "Python function '%s' was not described", f.Path)
		}
		fn := cat.functions[strings.ToLower(f.Name)]
		fn.Table = info.Kind == "table"
		fn.Deterministic = info.Deterministic
		fn.FuncType = info.FuncType
		for _, t := range info.ResultTypes {
			rt, err := sql.ParseType(t)
			if err != nil {
				return errAt(f.PathAt, "function %s declares result type %q: %v", f.Name, t, err)
			}
			fn.ResultTypes = append(fn.ResultTypes, rt)
		}
		if info.InputTypes != nil {
			fn.InputTypes = []types.T{}
			for _, t := range info.InputTypes {
				it, err := sql.ParseType(t)
				if err != nil {
					return errAt(f.PathAt, "function %s declares input type %q: %v", f.Name, t, err)
				}
				fn.InputTypes = append(fn.InputTypes, it)
			}
		}
		cat.arity[fn] = [2]int{info.MinArgs, info.MaxArgs}
		if info.Kind == "aggregate" {
			registerUDAF(cat, strings.ToLower(f.Name), fn, info.MinArgs, info.MaxArgs)
		}
		if info.Kind == "table_aggregate" {
			registerUDTAF(cat, strings.ToLower(f.Name), fn, info.MinArgs, info.MaxArgs)
		}
	}
	return nil
}

func splitPath(p string) (mod, attr string, ok bool) {
	i := strings.LastIndexByte(p, '.')
	if i <= 0 || i == len(p)-1 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

func createTable(cat *catalog, st *sql.CreateTable) error {
	name := strings.ToLower(st.Name)
	if _, dup := cat.tables[name]; dup {
		if st.IfNotExists {
			return nil
		}
		return errAt(st.At, "table %s is already defined", st.Name)
	}
	t := &Table{Name: st.Name, Options: map[string]string{}}
	seen := map[string]bool{}
	for _, c := range st.Columns {
		if seen[strings.ToLower(c.Name)] {
			return errAt(c.At, "column %s is defined twice in table %s", c.Name, st.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		t.Schema = append(t.Schema, types.Field{Name: c.Name, Type: c.Type})
	}
	if st.Watermark != nil {
		if err := addWatermark(t, st.Watermark); err != nil { // window.go
			return err
		}
	}
	for _, o := range st.Options {
		t.Options[o.Key] = o.Value
	}
	if t.Options["connector"] == "" {
		return errAt(st.At, "table %s has no 'connector' option; add WITH ('connector' = 'datagen' | 'print' | 'blackhole' | 'filesystem', ...)", st.Name)
	}
	if err := addPartitionKeys(t, st); err != nil { // partitions.go
		return err
	}
	if err := addProcTime(t, st); err != nil { // proctime.go
		return err
	}
	cat.tables[name] = t
	return nil
}

// jobOptions returns the options in force at a statement and its job
// parameters ('pipeline.global-job-parameters').
func jobOptions(opts *config.Session, at sql.Pos) (map[string]string, map[string]string, error) {
	m := opts.Map()
	c, _, err := config.Resolve(m)
	if err != nil {
		return nil, nil, errAt(at, "%v", err)
	}
	return m, c.Map(config.GlobalJobParameters), nil
}
