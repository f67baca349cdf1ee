package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// startGateway runs Run in the background and returns the socket path and
// the channel of Run's result.
func startGateway(t *testing.T, ctx context.Context, secret string) (string, <-chan error) {
	// A short TMPDIR: a Unix socket's path is limited to 108 bytes.
	tmp, err := os.MkdirTemp("/tmp", "gw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Secret: secret, Ready: pw, Python: "python3", Version: "test", AcceptTimeout: 20 * time.Second})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the ready line: %v (Run: %v)", err, <-done)
	}
	var ready struct{ Socket string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	fi, err := os.Stat(ready.Socket[:strings.LastIndexByte(ready.Socket, '/')])
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v, mode %v; want a private (0700) directory", err, fi.Mode())
	}
	return ready.Socket, done
}

func call(t *testing.T, c net.Conn, req Request) (*Response, []byte) {
	t.Helper()
	if err := WriteMessage(bufio.NewWriter(c), &req, nil); err != nil {
		t.Fatal(err)
	}
	var resp Response
	body, err := ReadMessage(c, &resp)
	if err != nil {
		t.Fatalf("%s: %v", req.Op, err)
	}
	return &resp, body
}

func TestRunRefusesWrongSecretAndEndsWithTheClient(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	sock, done := startGateway(t, context.Background(), secret)
	// A stranger with a wrong secret is refused; the gateway keeps waiting.
	bad, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := call(t, bad, Request{Op: "hello", Secret: strings.Repeat("x", 32)}); resp.OK {
		t.Fatalf("hello with a wrong secret: ok")
	}
	bad.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := call(t, c, Request{Op: "hello", Secret: secret}); !resp.OK || resp.Version != "test" {
		t.Fatalf("hello = %+v", resp)
	}
	// One client only: the socket is gone.
	if _, err := net.Dial("unix", sock); err == nil {
		t.Fatalf("a second client could connect")
	}
	resp, body := call(t, c, Request{Op: "execute_sql", SQL: "SELECT 1 + 1 AS two"})
	if !resp.OK || resp.Kind != "select" || resp.Rows != 1 || len(body) == 0 || resp.Columns[0].Name != "two" {
		t.Fatalf("SELECT 1 + 1 = %+v, %d body bytes", resp, len(body))
	}
	if resp, _ := call(t, c, Request{Op: "execute_sql", SQL: "SELECT\n  x"}); resp.OK || !strings.Contains(resp.Error, "line 2, column 3") {
		t.Fatalf("error response = %+v; want the SQL position", resp)
	}
	if resp, _ := call(t, c, Request{Op: "bogus"}); resp.OK || !strings.Contains(resp.Error, "bogus") {
		t.Fatalf("unknown op = %+v", resp)
	}
	c.Close() // the client goes away without "close"
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the gateway did not end when its client disconnected")
	}
}

func TestRunEndsWhenCancelledWithoutClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, done := startGateway(t, ctx, "0123456789abcdef0123456789abcdef")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the gateway did not end when cancelled")
	}
}
