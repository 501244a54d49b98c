package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ramp finds the capacity: steps of Step at Start, Start×Factor, …
// operations a second; a step holds when it has no error, its worst p99
// is within SLO and the harness sent every request within SLO of when it
// was due (its lateness is in the latencies too, counted from when due). The capacity is the last rate that held.
type Ramp struct {
	Start, Factor, Max float64
	Step, SLO          time.Duration
}

// RampStep is one rate tried.
type RampStep struct {
	Rate   float64       `json:"rate"`
	Errors int           `json:"errors"`
	P99    time.Duration `json:"worst_p99_ns"`
	Worst  Op            `json:"worst_op"` // whose p99 it is
	Held   bool          `json:"held"`
	Why    string        `json:"why,omitempty"`
}

func (w *workload) capacity(ctx context.Context, ramp Ramp, opt Options, progress io.Writer) (float64, []RampStep) {
	var steps []RampStep
	capacity := 0.0
	for rate := ramp.Start; rate <= ramp.Max && ctx.Err() == nil; rate *= ramp.Factor {
		o := opt
		o.Rate, o.Duration = rate, ramp.Step
		r := w.run(ctx, o)
		s := RampStep{Rate: rate, Errors: r.Errors}
		s.P99, s.Worst = r.workloadP99()
		switch {
		case r.Errors > 0:
			s.Why = fmt.Sprintf("%d 个错误", r.Errors)
		case s.P99 > ramp.SLO:
			s.Why = fmt.Sprintf("%s的 p99 为 %s，超过 %s", s.Worst.Name(), round(s.P99), ramp.SLO)
		case r.MaxIssueLag > ramp.SLO:
			s.Why = fmt.Sprintf("压测端未能按时发出（最晚晚了 %s）", round(r.MaxIssueLag))
		default:
			s.Held = true
			capacity = rate
		}
		steps = append(steps, s)
		if s.Held {
			fmt.Fprintf(progress, "探测容量：每秒 %.1f 个操作：达标（最慢的%s p99 %s）\n", rate, s.Worst.Name(), round(s.P99))
		} else {
			fmt.Fprintf(progress, "探测容量：每秒 %.1f 个操作：未达标（%s）\n", rate, s.Why)
			break
		}
	}
	return capacity, steps
}

// Sample is the server's resident memory at a moment of the soak.
type Sample struct {
	At  time.Duration `json:"at_ns"`
	RSS int64         `json:"rss_bytes"`
}

// MemoryReader reads the server's resident set size in bytes.
type MemoryReader func(ctx context.Context) (int64, error)

var rssMetric = regexp.MustCompile(`(?m)^process_resident_memory_bytes ([0-9.e+]+)$`)

// metricsRSS reads process_resident_memory_bytes from the server's
// Prometheus page at path (the demo serves /metrics on its own address).
func (w *workload) metricsRSS(path string) MemoryReader {
	return func(ctx context.Context) (int64, error) {
		b, err := w.send(ctx, w.http.HTTP, "GET", path, nil, nil, 200)
		if err != nil {
			return 0, err
		}
		m := rssMetric.FindSubmatch(b)
		if m == nil {
			return 0, errors.New("指标页中没有 process_resident_memory_bytes")
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		return int64(v), err
	}
}

// ProcRSS reads VmRSS from /proc/<pid>/status, for a server on this machine.
func ProcRSS(pid int) MemoryReader {
	return func(context.Context) (int64, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return kb << 10, err
			}
		}
		return 0, fmt.Errorf("/proc/%d/status 中没有 VmRSS", pid)
	}
}

// FlatRule is the soak's memory rule, as the report states it.
const FlatRule = "内存平稳：把样本按时间分成三段，第三段 RSS 的中位数不超过第二段中位数的 110%（第一段是预热：缓存、连接池和 Go 堆的增长）"

// Flat applies FlatRule: the median of the last third of the samples
// against that of the second third. It needs six samples at least.
func Flat(samples []Sample) (flat bool, second, last int64, err error) {
	if len(samples) < 6 {
		return false, 0, 0, fmt.Errorf("内存样本只有 %d 个，至少需要 6 个才能判断", len(samples))
	}
	n := len(samples)
	second, last = medianRSS(samples[n/3:2*n/3]), medianRSS(samples[2*n/3:])
	return float64(last) <= 1.10*float64(second), second, last, nil
}

func medianRSS(s []Sample) int64 {
	v := make([]int64, len(s))
	for i, x := range s {
		v[i] = x.RSS
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// SoakResult is the soak's report.
type SoakResult struct {
	Capacity      float64    `json:"capacity"`
	Ramp          []RampStep `json:"ramp,omitempty"`
	Run           Result     `json:"run"`
	Samples       []Sample   `json:"samples"`
	Rule          string     `json:"rule"`
	SecondThird   int64      `json:"second_third_median_rss_bytes"`
	LastThird     int64      `json:"last_third_median_rss_bytes"`
	Flat          bool       `json:"flat"`
	Failures      []string   `json:"failures,omitempty"`
	SampleFailure string     `json:"sample_failure,omitempty"`
}

// Passed says whether the soak met its bar: no error and flat memory.
func (s SoakResult) Passed() bool { return len(s.Failures) == 0 }

// soak runs opt (its rate half of the capacity) while sampling memory
// every `every`.
func (w *workload) soak(ctx context.Context, opt Options, every time.Duration, mem MemoryReader, progress io.Writer) SoakResult {
	var res SoakResult
	res.Rule = FlatRule
	start := time.Now()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			rss, err := mem(ctx)
			if err != nil && res.SampleFailure == "" {
				res.SampleFailure = err.Error()
			}
			if err == nil {
				at := time.Since(start)
				res.Samples = append(res.Samples, Sample{At: at, RSS: rss})
				fmt.Fprintf(progress, "浸泡测试：已运行 %s，服务端 RSS %.1f MiB\n", at.Round(time.Second), float64(rss)/(1<<20))
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	res.Run = w.run(ctx, opt)
	// One last sample once the load is over, still part of the last third.
	close(stop)
	<-sampled
	if rss, err := mem(ctx); err == nil {
		res.Samples = append(res.Samples, Sample{At: time.Since(start), RSS: rss})
	}
	if res.Run.Errors > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("有 %d 个错误", res.Run.Errors))
	}
	if res.SampleFailure != "" {
		res.Failures = append(res.Failures, "读取内存失败："+res.SampleFailure)
	}
	flat, second, last, err := Flat(res.Samples)
	res.SecondThird, res.LastThird, res.Flat = second, last, flat
	switch {
	case err != nil:
		res.Failures = append(res.Failures, err.Error())
	case !flat:
		res.Failures = append(res.Failures, fmt.Sprintf("内存增长：第三段中位数 %.1f MiB，第二段 %.1f MiB（+%.0f%%）",
			float64(last)/(1<<20), float64(second)/(1<<20), (float64(last)/float64(second)-1)*100))
	}
	return res
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
