package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
)

// TestOpenLoop: against a server that takes 200 ms to answer, every
// request is still sent when it is due (the harness does not wait for
// answers, so a slow server cannot lower the rate it is measured at), the
// latency includes the wait, and every 10th answer, a 500, is counted by
// its status.
func TestOpenLoop(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		if n.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	w := &workload{base: srv.URL, http: loadgen.NewClient(srv.URL, 512), items: []int64{1}}
	res := w.run(context.Background(), Options{Rate: 50, Duration: 2 * time.Second, Mix: map[Op]int{Guide: 1}, Grace: 5 * time.Second})
	if res.Issued != 100 {
		t.Errorf("issued %d requests, want 100 (50/s for 2 s)", res.Issued)
	}
	if res.IssueSpan > 2500*time.Millisecond {
		t.Errorf("issuing took %v for a 2 s schedule: the harness waited for the slow answers", res.IssueSpan)
	}
	g := res.Op(Guide)
	if g == nil || g.Count+g.Errors != 100 || g.Errors != 10 || g.ErrorKinds["HTTP 500"] != 10 {
		t.Fatalf("guide: %+v, want 90 answered and 10 errors, all HTTP 500", g)
	}
	if g.P50 < 200*time.Millisecond || g.P50 > g.P90 || g.P90 > g.P99 || g.P99 > g.Max {
		t.Errorf("percentiles p50 %v p90 %v p99 %v max %v: want at least the server's 200 ms and in order", g.P50, g.P90, g.P99, g.Max)
	}
	if res.Errors != 10 {
		t.Errorf("the run counts %d errors, want 10", res.Errors)
	}
}

// TestFlat: the last third's median against the second third's, the
// warm-up (first third) not counted.
func TestFlat(t *testing.T) {
	mib := func(vs ...int64) []Sample {
		var s []Sample
		for i, v := range vs {
			s = append(s, Sample{At: time.Duration(i) * 30 * time.Second, RSS: v << 20})
		}
		return s
	}
	for _, c := range []struct {
		name    string
		samples []Sample
		flat    bool
	}{
		{"warm-up then level", mib(40, 80, 100, 101, 99, 102, 100, 103, 101), true},
		{"within 10%", mib(50, 60, 100, 100, 100, 109, 109, 109, 109), true},
		{"growing", mib(50, 60, 100, 100, 100, 115, 120, 125, 130), false},
		{"slow leak", mib(100, 105, 110, 115, 120, 125, 130, 135, 140), false},
	} {
		flat, _, _, err := Flat(c.samples)
		if err != nil || flat != c.flat {
			t.Errorf("%s: flat %v (%v), want %v", c.name, flat, err, c.flat)
		}
	}
	if _, _, _, err := Flat(mib(1, 2, 3, 4, 5)); err == nil {
		t.Error("five samples are judged")
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil || m[Guide] != 30 || m[Apply] != 10 || m[Lookup] != 10 || m[Baseline] != 0 {
		t.Fatalf("default mix: %v %v", m, err)
	}
	for _, bad := range []string{"", "guide", "guide=x", "guide=-1", "nosuch=1", "baseline=3", "guide=0"} {
		if _, err := ParseMix(bad); err == nil || !strings.ContainsAny(err.Error(), "无效未知为") {
			t.Errorf("ParseMix(%q): %v, want a Chinese error", bad, err)
		}
	}
}
