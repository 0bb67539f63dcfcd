package receiver

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	received *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_received_total",
			Help: "Webhook deliveries accepted, by source.",
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_errors_total",
			Help: "Webhook deliveries rejected, by source and error code.",
		}, []string{"source", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webhook_request_duration_seconds",
			Help:    "Time to verify, store and answer a webhook delivery.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source", "status"}),
	}
	reg.MustRegister(m.received, m.errors, m.duration)
	return m
}
