package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/weir-dev/weir/internal/gateway"
)

// gatewaySecretEnv names the environment variable that carries the
// session's secret (the environment, unlike the arguments, is private to
// the user).
const gatewaySecretEnv = "WEIR_GATEWAY_SECRET"

// cmdGateway serves one Table API session (weir.table) over a private Unix
// socket; see docs/GATEWAY.md. It ends when the client disconnects, when
// its standard input closes (the client holds the pipe: if the client dies,
// even by SIGKILL, the pipe closes), or on SIGINT/SIGTERM; a running job is
// cancelled and its workers stopped.
func cmdGateway(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	synopsis := "WEIR_GATEWAY_SECRET=... weir gateway [-D key=value ...] [-v]"
	fs := flag.NewFlagSet("weir gateway", flag.ContinueOnError)
	var c common
	c.register(fs)
	if code, ok := parseFlags(fs, c.normalize(args), synopsis, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return stray("weir gateway", fs.Args(), nil, stderr)
	}
	secret := os.Getenv(gatewaySecretEnv)
	if secret == "" {
		fmt.Fprintf(stderr, "weir gateway: %s is not set; the gateway is started by the weir.table Python package, which sets it\n", gatewaySecretEnv)
		return exitUsage
	}
	os.Unsetenv(gatewaySecretEnv) // not for the workers
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The client never writes to our stdin: EOF means it is gone.
		io.Copy(io.Discard, stdin)
		cancel()
	}()
	settings := c.finalSettings()
	err := gateway.Run(ctx, gateway.Config{
		Secret: secret, Settings: settings, Python: python(settings), Version: version,
		Log: c.logger(stderr), Ready: stdout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "weir gateway: %v\n", err)
		return exitFailed
	}
	return exitOK
}
