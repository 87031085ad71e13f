package cluster

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are what an operator watches of a node's membership: how long
// an append to the log takes, how far this node's projection is behind
// the log, how often nodes raced on a room, and whether NATS is there.
type metrics struct {
	append    prometheus.Histogram
	conflicts prometheus.Counter
	lag       atomic.Uint64 // records of the log after the last one applied, as the follower last saw it
}

func newMetrics() *metrics {
	return &metrics{
		append: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "duplex_cluster_append_seconds",
			Help:    "Time to append one record to a room's log in JetStream (a quorum has it when it returns).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "duplex_cluster_append_conflicts_total",
			Help: "Appends refused because another node appended to the room first; the node caught up and planned again.",
		}),
	}
}

func (m *metrics) observeAppend(start time.Time) { m.append.Observe(time.Since(start).Seconds()) }

// Collectors returns the node's metrics, for the server's registry.
func (n *Node) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		n.metrics.append, n.metrics.conflicts,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "duplex_cluster_lag_records",
			Help: "Records of the room logs this node has not applied yet (consumer lag).",
		}, func() float64 { return float64(n.metrics.lag.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "duplex_cluster_nats_connected",
			Help: "1 while this node is connected to NATS, else 0 (sends are refused with unavailable).",
		}, func() float64 {
			if n.nc.IsConnected() {
				return 1
			}
			return 0
		}),
	}
}
