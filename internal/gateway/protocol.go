// Package gateway serves one client session of weir's Table API over a
// private Unix socket: the Python package weir.table starts `weir gateway`,
// connects, and sends SQL statements, functions and data; the engine plans
// and runs them with plan and job, and sends results back as Arrow IPC
// streams. The protocol is documented in docs/GATEWAY.md.
//
// Every message, either way, is two frames: a JSON header and a binary
// body (possibly empty), each a 4-byte big-endian length then its bytes.
// The body carries Arrow IPC stream bytes or a pickled function; the
// header says which.
//
// gateway imports types, sql, plan, job, exec, connector, pyexec, tmpdir
// and config.
package gateway

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits of one message: a header is small; a body holds a whole table or
// result, bounded by the 4-byte length.
const (
	maxHeader = 1 << 20
	maxBody   = 1<<32 - 1
)

// Request is a client's message header. Op selects the operation; the other
// fields are its arguments (docs/GATEWAY.md lists which each op reads).
type Request struct {
	Op string `json:"op"`
	// Secret authenticates the session's first message (op "hello").
	Secret string `json:"secret,omitempty"`
	// SQL is the statement of "execute_sql", "explain" and "create_view".
	SQL string `json:"sql,omitempty"`
	// Name is the table, view or function name.
	Name string `json:"name,omitempty"`
	// Columns are the columns of a table sent with "register_table".
	Columns []Column `json:"columns,omitempty"`
	// Settings are the options of "set_config" (TableConfig.set).
	Settings map[string]string `json:"settings,omitempty"`
	// IfExists makes "drop_function" of an unknown function no error.
	IfExists bool `json:"if_exists,omitempty"`
	// Fetch "stream" makes "execute_sql" of a query send its rows as they
	// come, in messages after the response (docs/GATEWAY.md); otherwise
	// they come whole in the response's body.
	Fetch string `json:"fetch,omitempty"`
	// Statements are the INSERTs of "execute_statement_set".
	Statements []string `json:"statements,omitempty"`
	// Path is a file of "add_python_file", "add_python_archive" and
	// "set_python_requirements"; Target is an archive's directory name and
	// CacheDir the directory of packages requirements are installed from.
	Path     string `json:"path,omitempty"`
	Target   string `json:"target,omitempty"`
	CacheDir string `json:"cache_dir,omitempty"`
}

// Column is a column's name and its Flink SQL type, e.g. "INT NOT NULL".
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Response is the engine's answer to one request. When OK is false, Error
// holds the engine's message (SQL errors carry their line and column,
// Python errors the traceback) and the client raises it.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Kind is what execute_sql ran: "ddl", "set", "insert" or "select".
	Kind string `json:"kind,omitempty"`
	// Columns is the schema of a query's result (the body holds its rows
	// as an Arrow IPC stream) or of a function's declared result.
	Columns []Column `json:"columns,omitempty"`
	// Rows is the number of rows written or returned.
	Rows int64 `json:"rows,omitempty"`
	// Text is the plan of "explain".
	Text string `json:"text,omitempty"`
	// Version is the engine's version, in the answer to "hello".
	Version string `json:"version,omitempty"`
	// RowKind says the result's Arrow data has a first column $row_kind
	// (Flink's RowKind byte: 0 +I, 1 -U, 2 +U, 3 -D) that Columns omit.
	RowKind bool `json:"row_kind,omitempty"`
	// More says messages with more of a streamed result follow.
	More bool `json:"more,omitempty"`
	// Cancelled says a streamed result ended because the client cancelled it.
	Cancelled bool `json:"cancelled,omitempty"`
	// Output is what the job's print sinks printed, for the client's stdout.
	Output string `json:"output,omitempty"`
	// Value and Found answer "get_config".
	Value string `json:"value,omitempty"`
	Found bool   `json:"found,omitempty"`
	// Cached says "set_python_requirements" found its environment already
	// installed.
	Cached bool `json:"cached,omitempty"`
	// Sinks are the tables a statement set wrote, in order, and SinkRows
	// their rows.
	Sinks    []string `json:"sinks,omitempty"`
	SinkRows []int64  `json:"sink_rows,omitempty"`
}

// readFrame reads one length-prefixed frame of at most max bytes.
func readFrame(r io.Reader, max uint64) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if uint64(size) > max {
		return nil, fmt.Errorf("gateway: a frame of %d bytes is over the limit of %d", size, max)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// ReadMessage reads one message: its header decoded into hdr, and its body.
// It returns io.EOF when the peer closed the connection between messages.
func ReadMessage(r io.Reader, hdr any) ([]byte, error) {
	h, err := readFrame(r, maxHeader)
	if err != nil {
		return nil, err
	}
	body, err := readFrame(r, maxBody)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("gateway: reading a message's body: %w", err)
	}
	if err := json.Unmarshal(h, hdr); err != nil {
		return nil, fmt.Errorf("gateway: a message's header is not valid JSON: %w", err)
	}
	return body, nil
}

// WriteMessage writes one message, hdr as JSON then body, and flushes w.
func WriteMessage(w *bufio.Writer, hdr any, body []byte) error {
	h, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("gateway: encoding a header: %w", err)
	}
	if uint64(len(body)) > maxBody {
		return fmt.Errorf("gateway: a body of %d bytes is over the limit of %d; fetch less at once", len(body), uint64(maxBody))
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(h)))
	w.Write(n[:])
	w.Write(h)
	binary.BigEndian.PutUint32(n[:], uint32(len(body)))
	w.Write(n[:])
	w.Write(body)
	return w.Flush()
}
