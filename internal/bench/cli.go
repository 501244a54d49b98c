package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UsageError is a mistake in the command line.
type UsageError struct{ error }

// ErrFailed is a soak that did not meet its bar (the report says why).
var ErrFailed = errors.New("浸泡测试未通过")

// Main is `zwfw bench [参数]`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zwfw bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080", "被测实例的地址（须为 zwfw demo：申请人经演示短信页注册，工作人员用演示账号）")
	rate := fs.Float64("rate", 20, "每秒发出的操作数（按时发出，不等前一个应答；基线另计）")
	rates := fs.String("rates", "", "依次以多个速率各运行一次，如 10,20,40（同一次准备，覆盖 --rate）")
	duration := fs.Duration("duration", 30*time.Second, "每个速率的持续时间（--soak 时默认 30m）")
	mix := fs.String("mix", DefaultMix, "负载组成：操作=权重（guide 办事指南、search 搜索、apply 网上申请含材料、staff 工作人员办理、queue 工作台队列、mycase 申请人查办件、lookup 公开查询）")
	baselineRate := fs.Float64("baseline-rate", 5, "基线（GET /healthz）每秒请求数，与负载同时发出")
	applicants := fs.Int("applicants", 20, "注册的申请人数")
	fileSize := fs.Int("file-size", 64<<10, "每份材料的字节数（每次申请两份）")
	grace := fs.Duration("grace", 30*time.Second, "发完后等待未返回应答的时间，超时的计为错误")
	asJSON := fs.Bool("json", false, "以 JSON 输出报告")
	soak := fs.Bool("soak", false, "浸泡测试：先探测容量（或用 --capacity），再以容量的一半运行 --duration（默认 30m），每隔 --sample-every 读取服务端内存；有错误或内存增长则失败")
	rampOnly := fs.Bool("ramp", false, "只探测容量：从 --ramp-start 起每步提高 25%，直到有错误或某操作的 p99 超过 --slo-p99")
	capacity := fs.Float64("capacity", 0, "（--soak）已知容量（每秒操作数），不再探测")
	rampStart := fs.Float64("ramp-start", 10, "（--soak、--ramp）探测容量的起始速率")
	rampStep := fs.Duration("ramp-step", 15*time.Second, "（--soak、--ramp）探测容量时每个速率的持续时间")
	slo := fs.Duration("slo-p99", time.Second, "（--soak、--ramp）探测容量时各操作 p99 延迟的上限")
	every := fs.Duration("sample-every", 30*time.Second, "（--soak）读取服务端内存的间隔")
	metricsPath := fs.String("metrics-path", "/metrics", "（--soak）服务端指标页（读 process_resident_memory_bytes）")
	pid := fs.Int("pid", 0, "（--soak）服务端进程号：改从 /proc/<pid>/status 读 RSS（服务端在本机时）")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "用法：zwfw bench [参数]\n以恒定速率对运行中的演示实例施加群众和工作人员的混合负载，报告各操作的吞吐量、错误和延迟分位数及其与同时测量的基线之比。\n\n参数：")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Errorf("多余的参数：%s", strings.Join(fs.Args(), " "))}
	}
	m, err := ParseMix(*mix)
	if err != nil {
		return UsageError{err}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *soak && !set["duration"] {
		*duration = 30 * time.Minute
	}
	list := []float64{*rate}
	if *rates != "" {
		list = nil
		for r := range strings.SplitSeq(*rates, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
			if err != nil || v <= 0 {
				return UsageError{fmt.Errorf("--rates 中的 %q 不是正数", r)}
			}
			list = append(list, v)
		}
	}
	switch {
	case slices.ContainsFunc(list, func(v float64) bool { return v <= 0 }):
		return UsageError{errors.New("--rate 须为正数")}
	case *duration <= 0 || *grace < 0 || *baselineRate < 0 || *every <= 0 || *rampStep <= 0:
		return UsageError{errors.New("时长和基线速率须为正数")}
	case *applicants < 1 || *applicants > 1000:
		return UsageError{errors.New("--applicants 须在 1 到 1000 之间")}
	case *fileSize < 16 || *fileSize > 32<<20:
		return UsageError{errors.New("--file-size 须在 16 字节到 32 MiB 之间")}
	}
	fmt.Fprintf(stderr, "准备：在 %s 注册 %d 位申请人、登录工作人员……\n", *target, *applicants)
	w, err := setup(ctx, *target, *applicants, *fileSize)
	if err != nil {
		return err
	}
	opt := Options{Mix: m, BaselineRate: *baselineRate, Grace: *grace, Duration: *duration}
	ramp := Ramp{Start: *rampStart, Factor: 1.25, Max: 5000, Step: *rampStep, SLO: *slo}
	if *rampOnly {
		c, steps := w.capacity(ctx, ramp, opt, stderr)
		res := SoakResult{Capacity: c, Ramp: steps}
		if *asJSON {
			return writeJSON(stdout, struct {
				Capacity float64    `json:"capacity"`
				Ramp     []RampStep `json:"ramp"`
			}{c, steps})
		}
		writeRamp(stdout, res)
		return nil
	}
	if *soak {
		var steps []RampStep
		c := *capacity
		if c <= 0 {
			c, steps = w.capacity(ctx, ramp, opt, stderr)
			if c == 0 {
				return fmt.Errorf("探测容量：起始速率每秒 %.1f 个操作已不达标（%s），请用更小的 --ramp-start", *rampStart, steps[0].Why)
			}
		}
		opt.Rate = c / 2
		mem := w.metricsRSS(*metricsPath)
		if *pid > 0 {
			mem = ProcRSS(*pid)
		}
		fmt.Fprintf(stderr, "浸泡测试：容量每秒 %.1f 个操作，以其一半（%.1f）运行 %s\n", c, opt.Rate, opt.Duration)
		res := w.soak(ctx, opt, *every, mem, stderr)
		res.Capacity, res.Ramp = c, steps
		if *asJSON {
			err = writeJSON(stdout, res)
		} else {
			err = writeSoak(stdout, *target, res)
		}
		if err == nil && !res.Passed() {
			err = ErrFailed
		}
		return err
	}
	var results []Result
	for _, r := range list {
		opt.Rate = r
		fmt.Fprintf(stderr, "运行：每秒 %.1f 个操作，%s……\n", r, opt.Duration)
		res := w.run(ctx, opt)
		results = append(results, res)
		if !*asJSON {
			if err := writeRun(stdout, *target, res); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if *asJSON {
		if len(results) == 1 {
			return writeJSON(stdout, results[0])
		}
		return writeJSON(stdout, results)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeRun prints a run's report in Chinese.
func writeRun(out io.Writer, target string, r Result) error {
	fmt.Fprintf(out, "\n混合负载：%s，每秒 %.1f 个操作（另有基线每秒 %.1f 个），持续 %s\n", target, r.Rate, r.BaselineRate, r.Duration)
	fmt.Fprintf(out, "发出 %d 个操作（计划 %d），最晚一个比计划晚 %s；最后一个应答在开始后 %s\n",
		r.Issued, int(r.Rate*r.Duration.Seconds()), round(r.MaxIssueLag), round(r.Elapsed))
	rows := [][]string{{"操作", "成功", "错误", "每秒", "p50", "p90", "p99", "最大", "与基线之比 p50/p90/p99"}}
	for _, s := range r.Ops {
		ratio := "—"
		if s.RatioP50 > 0 {
			ratio = fmt.Sprintf("%.1f / %.1f / %.1f", s.RatioP50, s.RatioP90, s.RatioP99)
		}
		rows = append(rows, []string{s.Name, strconv.Itoa(s.Count), strconv.Itoa(s.Errors), fmt.Sprintf("%.1f", s.PerSecond),
			round(s.P50).String(), round(s.P90).String(), round(s.P99).String(), round(s.Max).String(), ratio})
	}
	table(out, rows)
	if r.Errors == 0 {
		fmt.Fprintln(out, "错误：无")
	} else {
		fmt.Fprintf(out, "错误：共 %d 个\n", r.Errors)
		for _, s := range r.Ops {
			if s.Errors == 0 {
				continue
			}
			var kinds []string
			for k, n := range s.ErrorKinds {
				kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
			}
			slices.Sort(kinds)
			fmt.Fprintf(out, "  %s：%s；第一个：%s\n", s.Name, strings.Join(kinds, "，"), s.FirstError)
		}
	}
	fmt.Fprintln(out, "说明：延迟从每个请求的计划发出时刻算起（含排队）；“工作人员办理”含打开办件页和提交办理两个请求；无待办办件时改为查看队列，计入“工作台队列”。")
	return nil
}

// table prints rows in columns, the first left-aligned and the others
// right-aligned, by their width on a terminal: a Chinese character takes
// two columns (text/tabwriter counts it as one).
func table(out io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], width(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-width(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(out, b.String())
	}
}

// width is how many terminal columns s takes: East Asian wide
// characters (CJK, full-width punctuation) take two.
func width(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x2E80 && r <= 0xFFEF {
			n++
		}
	}
	return n
}

// writeRamp prints the capacity search.
func writeRamp(out io.Writer, s SoakResult) {
	if len(s.Ramp) > 0 {
		fmt.Fprintln(out, "容量探测：")
		for _, st := range s.Ramp {
			verdict := "达标"
			if !st.Held {
				verdict = "未达标：" + st.Why
			}
			fmt.Fprintf(out, "  每秒 %.1f 个操作：最慢的是%s，p99 %s；错误 %d；%s\n", st.Rate, st.Worst.Name(), round(st.P99), st.Errors, verdict)
		}
	}
	fmt.Fprintf(out, "容量：每秒 %.1f 个操作\n", s.Capacity)
}

func writeSoak(out io.Writer, target string, s SoakResult) error {
	writeRamp(out, s)
	fmt.Fprintf(out, "浸泡速率：每秒 %.1f 个操作\n", s.Run.Rate)
	if err := writeRun(out, target, s.Run); err != nil {
		return err
	}
	fmt.Fprintln(out, "服务端内存（RSS）：")
	for _, m := range s.Samples {
		fmt.Fprintf(out, "  %8s  %.1f MiB\n", m.At.Round(time.Second), float64(m.RSS)/(1<<20))
	}
	fmt.Fprintf(out, "规则：%s\n第二段中位数 %.1f MiB，第三段中位数 %.1f MiB\n", s.Rule, float64(s.SecondThird)/(1<<20), float64(s.LastThird)/(1<<20))
	if s.Passed() {
		fmt.Fprintln(out, "结论：通过（无错误，内存平稳）")
	} else {
		fmt.Fprintf(out, "结论：未通过：%s\n", strings.Join(s.Failures, "；"))
	}
	return nil
}
