package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// River's info lines (the producers' job counts every 5 s) go to debug;
// its warnings and errors still reach an info-level log.
func TestRiverInfoLinesAreQuiet(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(quietHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})}).With("part", "jobs")
	log.InfoContext(context.Background(), "default: Producer job counts", "num_completed_jobs", 3)
	log.Warn("job failed", "attempt", 2)
	log.Error("queue stopped")
	out := buf.String()
	if strings.Contains(out, "Producer job counts") || !strings.Contains(out, "job failed") || !strings.Contains(out, "queue stopped") || !strings.Contains(out, "part=jobs") {
		t.Fatalf("log:\n%s", out)
	}
	buf.Reset()
	debug := slog.New(quietHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})})
	debug.Info("default: Producer job counts")
	if !strings.Contains(buf.String(), "level=DEBUG") {
		t.Fatalf("at debug level: %s", buf.String())
	}
}
