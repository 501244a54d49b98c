// Package bench is `zwfw bench`: the mixed citizen and staff workload at
// a constant rate against a running `zwfw demo`, with the latency of each
// operation beside that of a baseline endpoint measured at the same time,
// and the soak that holds half of the capacity for half an hour watching
// the server's memory.
//
// The load is open-loop: request i is due at start + i/rate and is sent
// then whatever the earlier ones are doing, and its latency counts from
// when it was due. A slow server therefore shows as latency (requests
// queue) instead of as a lower rate that hides it (coordinated omission).
package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Options shape a run.
type Options struct {
	Rate     float64       // operations a second, baseline not counted
	Duration time.Duration // how long to issue them
	Mix      map[Op]int    // the share of each operation
	// BaselineRate is the baseline's own rate, issued alongside.
	BaselineRate float64
	// Grace is how long to wait, after the last is issued, for the
	// answers still outstanding; those not back by then count as errors.
	Grace time.Duration
}

// Stats is what one operation measured. Latencies are of the successful
// requests, from when each was due.
type Stats struct {
	Op         Op             `json:"op"`
	Name       string         `json:"name"`
	Count      int            `json:"count"`  // answered successfully
	Errors     int            `json:"errors"` // all kinds
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	FirstError string         `json:"first_error,omitempty"`
	PerSecond  float64        `json:"per_second"`
	P50        time.Duration  `json:"p50_ns"`
	P90        time.Duration  `json:"p90_ns"`
	P99        time.Duration  `json:"p99_ns"`
	Max        time.Duration  `json:"max_ns"`
	// Ratios to the baseline's percentile of the same rank (p50/p50, …).
	RatioP50 float64 `json:"ratio_p50,omitempty"`
	RatioP90 float64 `json:"ratio_p90,omitempty"`
	RatioP99 float64 `json:"ratio_p99,omitempty"`
	lat      []time.Duration
}

// Result is a run's report.
type Result struct {
	Rate         float64       `json:"rate"`
	BaselineRate float64       `json:"baseline_rate"`
	Duration     time.Duration `json:"duration_ns"`
	Issued       int           `json:"issued"`           // workload operations sent, baseline not counted
	IssueSpan    time.Duration `json:"issue_span_ns"`    // from the first to the last sent
	MaxIssueLag  time.Duration `json:"max_issue_lag_ns"` // the latest any was sent after it was due
	Elapsed      time.Duration `json:"elapsed_ns"`       // until the last answer
	Ops          []*Stats      `json:"ops"`
	Errors       int           `json:"errors"` // baseline included
}

// Op returns the stats of op, nil when none was sent.
func (r Result) Op(op Op) *Stats {
	for _, s := range r.Ops {
		if s.Op == op {
			return s
		}
	}
	return nil
}

// recorder gathers the outcomes of a run.
type recorder struct {
	mu    sync.Mutex
	stats map[Op]*Stats
}

func (r *recorder) add(op Op, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats[op]
	if s == nil {
		s = &Stats{Op: op, Name: op.Name(), ErrorKinds: map[string]int{}}
		r.stats[op] = s
	}
	if err != nil {
		s.Errors++
		s.ErrorKinds[errorKind(err)]++
		if s.FirstError == "" {
			s.FirstError = err.Error()
		}
		return
	}
	s.Count++
	s.lat = append(s.lat, took)
}

// deck is the sequence of operations a run cycles through: each in
// proportion to its weight, shuffled, so that any window of the run has
// the mix rather than only its average.
func deck(mix map[Op]int, rnd *rand.Rand) []Op {
	var d []Op
	for _, op := range ops {
		for range mix[op] {
			d = append(d, op)
		}
	}
	rnd.Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
	return d
}

// run issues the workload on schedule and the baseline beside it.
func (w *workload) run(ctx context.Context, opt Options) Result {
	rec := &recorder{stats: map[Op]*Stats{}}
	var wg sync.WaitGroup
	reqCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	d := deck(opt.Mix, rand.New(rand.NewPCG(seed, 1)))
	start := time.Now()
	// issue sends n operations due at start + i/rate, each on its own
	// goroutine, and returns the lateness of the latest.
	issue := func(rate float64, next func(i int) Op) (n int, lag time.Duration) {
		total := int(rate * opt.Duration.Seconds())
		for i := range total {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return n, lag
				case <-time.After(wait):
				}
			} else if ctx.Err() != nil {
				return n, lag
			}
			lag = max(lag, time.Since(due))
			op := next(i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(seed, uint64(i)<<1|1))
				did, err := w.do(reqCtx, op, rnd)
				rec.add(did, time.Since(due), err)
			}()
			n++
		}
		return n, lag
	}
	var res Result
	res.Rate, res.BaselineRate, res.Duration = opt.Rate, opt.BaselineRate, opt.Duration
	baseline := make(chan struct{})
	go func() {
		defer close(baseline)
		if opt.BaselineRate > 0 {
			issue(opt.BaselineRate, func(int) Op { return Baseline })
		}
	}()
	res.Issued, res.MaxIssueLag = issue(opt.Rate, func(i int) Op { return d[i%len(d)] })
	res.IssueSpan = time.Since(start)
	<-baseline
	// Answers still outstanding after the grace are cancelled: they
	// count as errors (已取消), not as missing.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(opt.Grace):
		cancel()
		<-done
	}
	res.Elapsed = time.Since(start)
	res.summarise(rec)
	return res
}

// summarise orders the stats, computes the percentiles and the ratios.
func (res *Result) summarise(rec *recorder) {
	for _, op := range ops {
		s := rec.stats[op]
		if s == nil {
			continue
		}
		slices.Sort(s.lat)
		s.P50, s.P90, s.P99 = percentile(s.lat, 50), percentile(s.lat, 90), percentile(s.lat, 99)
		if len(s.lat) > 0 {
			s.Max = s.lat[len(s.lat)-1]
		}
		s.PerSecond = float64(s.Count) / res.Duration.Seconds()
		res.Errors += s.Errors
		res.Ops = append(res.Ops, s)
	}
	if b := res.Op(Baseline); b != nil && b.P50 > 0 {
		for _, s := range res.Ops {
			if s.Op != Baseline && s.Count > 0 {
				s.RatioP50, s.RatioP90, s.RatioP99 = ratio(s.P50, b.P50), ratio(s.P90, b.P90), ratio(s.P99, b.P99)
			}
		}
	}
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// workloadP99 is the worst p99 among the workload's operations, and
// whose it is.
func (r Result) workloadP99() (time.Duration, Op) {
	var worst time.Duration
	var op Op
	for _, s := range r.Ops {
		if s.Op != Baseline && s.P99 > worst {
			worst, op = s.P99, s.Op
		}
	}
	return worst, op
}
