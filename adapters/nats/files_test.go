package nats_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	pcxnats "pcx/adapters/nats"
	"pcx/ports/filesharetest"
)

// newFiles starts a file share per node, each on its own connection to
// the server at url.
func newFiles(t *testing.T, url string, opts pcxnats.FileOptions, nodes ...string) []*pcxnats.Files {
	t.Helper()
	out := make([]*pcxnats.Files, len(nodes))
	for i, n := range nodes {
		f, err := pcxnats.NewFiles(dial(t, n, url), room, opts)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		out[i] = f
	}
	return out
}

func TestFileShareContract(t *testing.T) {
	filesharetest.Run(t, func(t *testing.T, nodes ...string) filesharetest.Shares {
		s := startNATS(t, t.TempDir(), -1)
		files := newFiles(t, s.url(), pcxnats.FileOptions{Chunk: 64 << 10, Window: 4}, nodes...)
		out := filesharetest.Shares{Chunk: files[0].Chunk(), Window: files[0].Window()}
		for _, f := range files {
			out.Nodes = append(out.Nodes, f)
		}
		return out
	})
}
