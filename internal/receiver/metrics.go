package receiver

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	received   *prometheus.CounterVec
	errors     *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	overloaded prometheus.Counter
	duration   *prometheus.HistogramVec
}

// newMetrics registers the receiver's metrics; inFlight reports the
// requests being handled now.
func newMetrics(reg prometheus.Registerer, inFlight func() float64) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_received_total",
			Help: "Webhook deliveries accepted, by source.",
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_errors_total",
			Help: "Webhook deliveries rejected, by source and error code.",
		}, []string{"source", "code"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_duplicates_total",
			Help: "Repeats of an idempotency key answered with the first delivery's result, by source.",
		}, []string{"source"}),
		// Not by source: the request is refused before it is routed.
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "webhook_overloaded_total",
			Help: "Requests refused with 503 because the in-flight limit was reached.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webhook_request_duration_seconds",
			Help:    "Time to verify, store and answer a webhook delivery.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source", "status"}),
	}
	reg.MustRegister(m.received, m.errors, m.duplicates, m.overloaded, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "webhook_in_flight_requests",
			Help: "Requests being handled now (health checks and metrics excluded).",
		}, inFlight))
	return m
}
