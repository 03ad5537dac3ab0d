package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	pcxnats "pcx/adapters/nats"
	"pcx/domain"
	"pcx/internal/natstest"
	"pcx/ports"
	"pcx/ports/bustest"
	"pcx/ports/namestest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const room = "test"

func TestBusContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T, nodes ...string) []ports.RoomBus {
		s := natstest.Start(t)
		out := make([]ports.RoomBus, len(nodes))
		for i, n := range nodes {
			b, err := pcxnats.NewBus(dial(t, n, s.URL()), room)
			require.NoError(t, err)
			out[i] = b
		}
		return out
	})
}

func newNames(t *testing.T, urls []string, nodes ...string) []ports.Names {
	out := make([]ports.Names, len(nodes))
	for i, n := range nodes {
		r, err := pcxnats.NewNames(context.Background(), dial(t, n, urls...), room, pcxnats.StoreOptions{})
		require.NoError(t, err)
		out[i] = r
	}
	return out
}

func TestNamesContract(t *testing.T) {
	namestest.RunNames(t, func(t *testing.T, nodes ...string) []ports.Names {
		s := natstest.Start(t)
		return newNames(t, []string{s.URL()}, nodes...)
	}, 100)
}

func newNodes(t *testing.T, ttl time.Duration, urls []string, nodes ...string) []ports.Nodes {
	out := make([]ports.Nodes, len(nodes))
	for i, n := range nodes {
		l, err := pcxnats.NewNodes(context.Background(), dial(t, n, urls...), room, ttl, pcxnats.StoreOptions{})
		require.NoError(t, err)
		out[i] = l
	}
	return out
}

func TestNodesContract(t *testing.T) {
	namestest.RunNodes(t, func(t *testing.T, nodes ...string) []ports.Nodes {
		s := natstest.Start(t)
		return newNodes(t, time.Second, []string{s.URL()}, nodes...)
	})
}

var domainTaken = domain.ErrNicknameTaken

// The registry's suite again with each node on its own server of a cluster
// and the bucket on three replicas: the race is decided across routes.
func TestNamesContractOnCluster(t *testing.T) {
	namestest.RunNames(t, func(t *testing.T, nodes ...string) []ports.Names {
		cluster := natstest.StartCluster(t, 3)
		out := make([]ports.Names, len(nodes))
		// Placing a bucket on three replicas of a cluster just formed can
		// take longer than JetStream's default 5 s on a loaded machine.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i, n := range nodes {
			r, err := pcxnats.NewNames(ctx, dial(t, n, cluster[i%len(cluster)].URL()), room,
				pcxnats.StoreOptions{Replicas: 3})
			require.NoError(t, err)
			out[i] = r
		}
		return out
	}, 50)
}
