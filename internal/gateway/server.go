package gateway

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// maxSocketPath is the longest path of a Unix socket (sun_path, with its NUL).
const maxSocketPath = 107

// Config configures a gateway.
type Config struct {
	// Secret must be sent by the client in its first message; a connection
	// that does not is closed.
	Secret string
	// Settings are the session's initial settings (-D flags).
	Settings map[string]string
	// Python is the workers' interpreter unless python.executable is set.
	Python string
	// Version is the engine's version, told to the client.
	Version string
	// Log receives the engine's and the workers' logs.
	Log *slog.Logger
	// Ready receives one JSON line, {"socket": path}, once the gateway
	// listens.
	Ready io.Writer
	// AcceptTimeout bounds the wait for the client; default 60 s.
	AcceptTimeout time.Duration
}

// Run listens on a Unix socket in a new private directory, serves the first
// client that authenticates, and returns when that client disconnects or
// ctx ends (cancelling a running job). It serves one session: a gateway
// belongs to the program that started it.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.Secret) < 16 {
		return errors.New("gateway: a secret of at least 16 characters is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	dir, err := tmpdir.Make("weir-gw-")
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "gateway.sock")
	if len(sock) > maxSocketPath {
		return fmt.Errorf("gateway: the socket path %s is longer than the %d bytes a Unix socket allows; set TMPDIR to a shorter directory", sock, maxSocketPath)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("gateway: listening on %s: %w", sock, err)
	}
	defer ln.Close()
	line, _ := json.Marshal(map[string]string{"socket": sock})
	if _, err := fmt.Fprintf(cfg.Ready, "%s\n", line); err != nil {
		return fmt.Errorf("gateway: announcing the socket: %w", err)
	}
	timeout := cfg.AcceptTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ln.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("gateway: no client connected within %s: %w", timeout, err)
		}
		ok, err := authenticate(conn, cfg)
		if err != nil || !ok {
			cfg.Log.Warn("gateway: refused a connection", "err", err)
			conn.Close()
			continue
		}
		// One client: no one else may connect, from before the client
		// hears that it is in.
		ln.Close()
		os.Remove(sock)
		if err := WriteMessage(bufio.NewWriter(conn), &Response{OK: true, Version: cfg.Version}, nil); err != nil {
			conn.Close()
			return fmt.Errorf("gateway: answering the client: %w", err)
		}
		return serve(ctx, conn, dir, cfg)
	}
}

// authenticate reads the hello message and checks its secret; the caller
// answers a client that passes.
func authenticate(conn net.Conn, cfg Config) (bool, error) {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	var req Request
	if _, err := ReadMessage(conn, &req); err != nil {
		return false, err
	}
	if req.Op != "hello" {
		return false, fmt.Errorf("first message is %q, want hello", req.Op)
	}
	if subtle.ConstantTimeCompare([]byte(req.Secret), []byte(cfg.Secret)) != 1 {
		WriteMessage(bufio.NewWriter(conn), &Response{Error: "wrong secret"}, nil)
		return false, errors.New("wrong secret")
	}
	return true, nil
}

type message struct {
	req  Request
	body []byte
}

// serve runs the session of one connection. Requests are read in their own
// goroutine so that a closed connection cancels a running job at once.
func serve(ctx context.Context, conn net.Conn, dir string, cfg Config) error {
	defer conn.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sess, err := NewSession(cfg.Settings, dir, cfg.Python, cfg.Log)
	if err != nil {
		return err
	}
	defer sess.Close()
	msgs := make(chan message)
	// stmt cancels the statement that runs, for op "cancel" (a client that
	// stops reading a streamed result); the reader calls it while the loop
	// below runs the statement.
	var stmtMu sync.Mutex
	var stmt context.CancelCauseFunc
	go func() {
		defer close(msgs)
		for {
			var m message
			body, err := ReadMessage(conn, &m.req)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					cfg.Log.Warn("gateway: reading a request", "err", err)
				}
				cancel(errors.New("the client disconnected"))
				return
			}
			m.body = body
			switch m.req.Op {
			case "close":
				// At once, even while a job runs: the client is done.
				cancel(errors.New("the client closed the session"))
				return
			case "cancel":
				// No response: the cancelled statement's last message says so.
				stmtMu.Lock()
				if stmt != nil {
					stmt(errCancelled)
				}
				stmtMu.Unlock()
				continue
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	w := bufio.NewWriterSize(conn, 1<<16)
	emit := func(resp *Response, body []byte) error {
		if err := WriteMessage(w, resp, body); err != nil {
			return fmt.Errorf("gateway: writing a response: %w", err)
		}
		return nil
	}
	for {
		var m message
		var ok bool
		select {
		case m, ok = <-msgs:
		case <-ctx.Done():
		}
		if !ok {
			return nil
		}
		sctx, scancel := context.WithCancelCause(ctx)
		stmtMu.Lock()
		stmt = scancel
		stmtMu.Unlock()
		resp, body := handle(sctx, sess, m, emit)
		stmtMu.Lock()
		stmt = nil
		stmtMu.Unlock()
		scancel(nil)
		if resp == nil {
			return nil // the connection broke mid-stream
		}
		if err := emit(resp, body); err != nil {
			return err
		}
	}
}

// handle runs one request; errors become responses.
// A streamed result sends its first messages through emit; resp is nil
// when emit failed (the connection is gone).
func handle(ctx context.Context, s *Session, m message, emit emitFunc) (resp *Response, body []byte) {
	defer func() {
		if p := recover(); p != nil {
			resp, body = &Response{Error: fmt.Sprintf("internal error in the engine: %v", p)}, nil
		}
	}()
	var err error
	r := m.req
	switch r.Op {
	case "execute_sql":
		if r.Fetch == "stream" {
			var broken bool
			resp, body, err = s.Stream(ctx, r.SQL, func(resp *Response, body []byte) error {
				err := emit(resp, body)
				broken = broken || err != nil
				return err
			})
			if broken {
				return nil, nil
			}
		} else {
			resp, body, err = s.Execute(ctx, r.SQL)
		}
	case "execute_statement_set":
		resp, err = s.ExecuteStatementSet(ctx, r.Statements)
	case "get_config":
		resp = s.GetConfig(r.Name)
	case "add_python_file":
		err = s.AddPythonFile(r.Path)
		resp = &Response{OK: true}
	case "add_python_archive":
		err = s.AddPythonArchive(r.Path, r.Target)
		resp = &Response{OK: true}
	case "set_python_requirements":
		resp, err = s.SetPythonRequirements(ctx, r.Path, r.CacheDir)
	case "schema":
		resp, err = s.Schema(ctx, r.SQL)
	case "explain":
		resp, err = s.Explain(ctx, r.SQL)
	case "create_view":
		resp, err = s.CreateView(ctx, r.Name, r.SQL)
	case "drop_view":
		if !s.DropView(r.Name) && !r.IfExists {
			err = fmt.Errorf("there is no temporary view %s", r.Name)
		}
		resp = &Response{OK: true}
	case "register_table":
		var n int64
		n, err = s.RegisterTable(r.Name, r.Columns, m.body)
		resp = &Response{OK: true, Rows: n}
	case "register_function":
		resp, err = s.RegisterFunction(ctx, r.Name, m.body)
	case "drop_function":
		if !s.DropFunction(r.Name) && !r.IfExists {
			err = fmt.Errorf("there is no temporary function %s", r.Name)
		}
		resp = &Response{OK: true}
	case "set_config":
		err = s.Set(r.Settings)
		resp = &Response{OK: true}
	default:
		err = fmt.Errorf("unknown request %q", r.Op)
	}
	if err != nil {
		return &Response{Error: err.Error()}, nil
	}
	return resp, body
}
