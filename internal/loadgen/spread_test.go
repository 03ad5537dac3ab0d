package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSpreadIsRoundRobin(t *testing.T) {
	tests := []struct {
		clients, servers int
		want             []int
	}{
		{clients: 100, servers: 1, want: []int{100}},
		{clients: 100, servers: 2, want: []int{50, 50}},
		{clients: 101, servers: 2, want: []int{51, 50}},
		{clients: 2, servers: 2, want: []int{1, 1}}, // files: sender and receiver apart
		{clients: 7, servers: 3, want: []int{3, 2, 2}},
		{clients: 2, servers: 3, want: []int{1, 1, 0}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, spread(tt.clients, tt.servers), "%d clients on %d servers", tt.clients, tt.servers)
	}
	assert.Equal(t, 0, serverOf(0, 2), "client 0, a file's sender, on the first server")
	assert.Equal(t, 1, serverOf(1, 2), "client 1, its first receiver, on the second")
}
