// Package metrics exposes the platform's Prometheus metrics: requests and
// latencies by route, the database pools and the job queue depth.
package metrics

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zwfw/zwfw/internal/store"
)

// QueueCounter counts jobs by state.
type QueueCounter interface {
	Counts(ctx context.Context) (map[string]int, error)
}

// Metrics holds this process's registry and the request instruments.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New registers the metrics of db and queue (nil when none) and of the Go runtime.
func New(db *store.DB, queue QueueCounter) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zwfw_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zwfw_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		dbCollector{db})
	if queue != nil {
		m.reg.MustRegister(queueCollector{queue})
	}
	return m
}

// Count adds a gauge read from the database at scrape time, such as a
// backlog. A failed read reports NaN rather than a misleading number.
func (m *Metrics) Count(name, help string, read func(context.Context) (int, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := read(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}

// Observe records one finished request. Unmatched requests share one
// route label so that probing random URLs cannot blow up the series.
func (m *Metrics) Observe(route, method string, status int, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	poolOpen  = prometheus.NewDesc("zwfw_db_pool_open_connections", "Open database connections by pool.", []string{"pool"}, nil)
	poolInUse = prometheus.NewDesc("zwfw_db_pool_in_use_connections", "Database connections in use by pool.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("zwfw_db_pool_wait_total", "Times a request waited for a database connection, by pool.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("zwfw_db_pool_wait_seconds_total", "Time spent waiting for a database connection, by pool.", []string{"pool"}, nil)
	jobsDesc  = prometheus.NewDesc("zwfw_jobs", "Background jobs by state; available+scheduled+retryable is the queue depth.", []string{"state"}, nil)
	jobsUp    = prometheus.NewDesc("zwfw_jobs_scrape_ok", "1 if the job counts could be read.", nil, nil)
)

type dbCollector struct{ db *store.DB }

func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolInUse
	ch <- poolWaits
	ch <- poolWait
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.db.Stats() {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections), name)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	}
}

type queueCollector struct{ q QueueCounter }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- jobsUp
}

// Collect reads the counts at scrape time: one indexed GROUP BY, cheaper
// than keeping counters in step across several instances.
func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(jobsUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(jobsUp, prometheus.GaugeValue, 1)
	for _, state := range []string{"available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled", "pending"} {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(counts[state]), state)
	}
}
