package generate

import (
	"context"
	"testing"

	"github.com/zwfw/zwfw/internal/store/storetest"
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
	cpu0 := storetest.ProcessCPU()
	for range b.N {
		bt := &batch{plans: make([]plan, opt.Batch), caseLast: map[string]int{}, docLast: map[docKey]int{}}
		for i := range bt.plans {
			bt.plans[i] = g.plan()
		}
		if err := g.build(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((storetest.ProcessCPU()-cpu0).Nanoseconds())/1e3/float64(opt.Cases), "cpu-µs/case")
}
