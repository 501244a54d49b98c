package generate

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BuildOnly plans and computes batches of opt.Batch cases on one
// goroutine, b.N of them, without writing them: the computing alone, for
// BenchmarkBuild. It reports the process's CPU time per case.
func BuildOnly(b *testing.B, ctx context.Context, d Deps, opt Options) {
	opt.Cases = opt.Batch * b.N
	g, err := prepare(ctx, d, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		bt := &batch{plans: make([]plan, opt.Batch), caseLast: map[string]int{}, docLast: map[docKey]int{}}
		for i := range bt.plans {
			bt.plans[i] = g.plan()
		}
		if err := g.build(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(opt.Cases), "cpu-µs/case")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
