package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"
)

// UserOutputMarker is the line weir.worker writes to its stdout and its
// stderr just before it first runs user code (imports the functions'
// modules). What a stream carried before it is the Beam harness starting
// up, logged at debug level; what follows is the user's: print() in a
// function, warnings, tracebacks of the user's threads. The marker itself is
// neither logged nor kept. Keep it equal to weir._beam.USER_OUTPUT_MARKER.
const UserOutputMarker = "weir.worker: user code starts"

// OutputLimit bounds how many lines of user output a worker logs: Burst
// lines at once, then PerSecond lines a second. Lines over the limit are
// counted, and the count is logged (at most once a second) instead.
type OutputLimit struct {
	// Burst is the number of lines logged before the rate applies; 0 means 100.
	Burst int
	// PerSecond is the sustained rate in lines a second; 0 means 10.
	PerSecond float64
}

func (l OutputLimit) withDefaults() OutputLimit {
	if l.Burst <= 0 {
		l.Burst = 100
	}
	if l.PerSecond <= 0 {
		l.PerSecond = 10
	}
	return l
}

// maxLine is the longest line logged or kept; the rest of a longer line is
// dropped (and counted), so a huge write cannot hold the engine's memory.
const maxLine = 64 << 10

// output routes the lines of one worker's stdout and stderr to its log,
// keeps the stderr tail, and rate-limits user output. Both streams share
// one limit.
type output struct {
	name  string
	log   *slog.Logger
	limit OutputLimit
	now   func() time.Time
	// every is how often a count of suppressed lines is logged.
	every time.Duration

	mu         sync.Mutex
	tail       []string
	tokens     float64
	last       time.Time
	suppressed int
	timer      *time.Timer
}

func newOutput(name string, log *slog.Logger, limit OutputLimit) *output {
	limit = limit.withDefaults()
	return &output{name: name, log: log, limit: limit, now: time.Now, every: time.Second, tokens: float64(limit.Burst)}
}

// faultDump matches the first line of a stack dump of faulthandler, which
// weir.worker writes to stderr when the engine asks for the Python stacks of
// a stuck bundle; the engine reports those itself.
var faultDump = regexp.MustCompile(`^(Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$`)

// copy reads the lines of one stream until it ends.
func (o *output) copy(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, 64<<10)
	user := false
	inDump := false
	for {
		line, cut, err := readLine(br)
		if err != nil && line == "" && cut == 0 {
			return
		}
		if cut > 0 {
			line = fmt.Sprintf("%s... (%d more bytes of this line not shown)", line, cut)
		}
		if line == UserOutputMarker {
			user = true
			continue
		}
		if stream == "stderr" {
			o.keep(line)
		}
		switch {
		case !user:
			o.debug(line, stream)
		case stream == "stderr" && (faultDump.MatchString(line) || inDump && isDumpLine(line)):
			inDump = true
			o.debug(line, stream)
		default:
			inDump = false
			o.user(line, stream)
		}
		if err != nil {
			return
		}
	}
}

func isDumpLine(line string) bool {
	return line == "" || len(line) > 2 && line[:2] == "  "
}

// readLine returns the next line without its newline, at most maxLine bytes
// of it and the number of bytes cut. err is set at the end of the stream
// (line then holds a last line without a newline, if any).
func readLine(br *bufio.Reader) (line string, cut int, err error) {
	var buf []byte
	for {
		chunk, e := br.ReadSlice('\n')
		if e == nil {
			chunk = chunk[:len(chunk)-1] // the newline
		}
		room := maxLine - len(buf)
		if len(chunk) > room {
			cut += len(chunk) - room
			chunk = chunk[:room]
		}
		buf = append(buf, chunk...)
		if e == nil || !errors.Is(e, bufio.ErrBufferFull) {
			err = e
			break
		}
	}
	if n := len(buf); n > 0 && buf[n-1] == '\r' {
		buf = buf[:n-1]
	}
	return string(buf), cut, err
}

func (o *output) keep(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.tail) == stderrTail {
		copy(o.tail, o.tail[1:])
		o.tail = o.tail[:stderrTail-1]
	}
	o.tail = append(o.tail, line)
}

func (o *output) debug(line, stream string) {
	if o.log != nil {
		o.log.Debug(line, "worker", o.name, "stream", stream)
	}
}

// user logs a line of user output, if the limit allows.
func (o *output) user(line, stream string) {
	if o.log == nil {
		return
	}
	o.mu.Lock()
	now := o.now()
	if !o.last.IsZero() {
		o.tokens += now.Sub(o.last).Seconds() * o.limit.PerSecond
		if b := float64(o.limit.Burst); o.tokens > b {
			o.tokens = b
		}
	}
	o.last = now
	if o.tokens < 1 {
		o.suppressed++
		if o.timer == nil {
			o.timer = time.AfterFunc(o.every, o.flushSuppressed)
		}
		o.mu.Unlock()
		return
	}
	o.tokens--
	o.mu.Unlock()
	o.show(slog.LevelInfo, line, slog.String("worker", o.name), slog.String("stream", stream))
}

// flushSuppressed logs how many lines the limit held back since it last
// did.
func (o *output) flushSuppressed() {
	o.mu.Lock()
	n := o.suppressed
	o.suppressed = 0
	o.timer = nil
	o.mu.Unlock()
	if n > 0 {
		o.show(slog.LevelWarn, fmt.Sprintf("%d lines of Python output not shown (rate limit: %d lines, then %g a second)", n, o.limit.Burst, o.limit.PerSecond),
			slog.String("worker", o.name), slog.Int("suppressed", n))
	}
}

// close logs the count of lines still held back; called when both streams
// have ended.
func (o *output) close() {
	o.mu.Lock()
	if o.timer != nil {
		o.timer.Stop()
	}
	o.mu.Unlock()
	o.flushSuppressed()
}

// show hands a record to the log's handler whatever its level: user output
// is what the user asked to see (PyFlink users debug with print), so it
// shows at weir's default verbosity, marked with its worker.
func (o *output) show(level slog.Level, msg string, attrs ...slog.Attr) {
	r := slog.NewRecord(o.now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = o.log.Handler().Handle(context.Background(), r)
}

// stderrTail returns at most the last n lines of stderr.
func (o *output) stderrTail(n int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := o.tail
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return append([]string(nil), lines...)
}
