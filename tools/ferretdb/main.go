// Command ferretdb-embedded runs FerretDB v1.24.2 (SQLite backend) for the chat
// backend's embedded default database.
//
// Why a wrapper instead of FerretDB's own cmd/ferretdb: built outside FerretDB's
// repository, cmd/ferretdb panics at start because build/version/version.txt is
// gitignored and never in the module (FerretDB issue #2982), and with Go >= 1.24
// a tool dependency is still reported as the main module, so its check is not
// skipped. The embeddable package github.com/FerretDB/FerretDB/ferretdb skips it
// when our module is the main one.
//
// It also exits when its standard input reaches EOF, so it never outlives the
// process that started it (that process holds the pipe; when it dies, even by
// SIGKILL, the pipe closes).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with --debug-addr
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URI of an existing directory, e.g. file:/abs/dir/")
	watchStdin := flag.Bool("exit-on-stdin-eof", true, "exit when standard input closes (parent gone)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	debugAddr := flag.String("debug-addr", "", "if set, serve Go's pprof on this address (e.g. 127.0.0.1:6060) for profiling")
	flag.Parse()

	if *sqliteURL == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded: --sqlite-url is required")
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded: bad --log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded:", err)
		os.Exit(1)
	}

	// GC was about a fifth of FerretDB's CPU on reads (every row is decoded into
	// short-lived Go values). GOGC=400 trades memory (the heap may grow to five
	// times the live data, tens of MB here) for far fewer collections. An explicit
	// GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	if *debugAddr != "" {
		// Off by default: profiling is a developer tool (tools/ferretdb/PATCHES.md, "Profiling").
		go func() {
			if err := http.ListenAndServe(*debugAddr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "ferretdb-embedded: --debug-addr:", err)
			}
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	// The parent waits for this line on stdout to know the port is accepting connections.
	fmt.Printf("ready %s\n", *listen)

	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb-embedded:", err)
		os.Exit(1)
	}
}
