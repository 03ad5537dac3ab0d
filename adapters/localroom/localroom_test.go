package localroom_test

import (
	"testing"

	"go.uber.org/goleak"

	"pcx/adapters/localroom"
	"pcx/ports"
	"pcx/ports/bustest"
	"pcx/ports/filesharetest"
	"pcx/ports/namestest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBusContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T, nodes ...string) []ports.RoomBus {
		room := localroom.NewRoom()
		out := make([]ports.RoomBus, len(nodes))
		for i, n := range nodes {
			out[i] = room.Bus(n)
		}
		return out
	})
}

func TestNamesContract(t *testing.T) {
	namestest.RunNames(t, func(t *testing.T, nodes ...string) []ports.Names {
		room := localroom.NewRoom()
		out := make([]ports.Names, len(nodes))
		for i, n := range nodes {
			out[i] = room.Names(n)
		}
		return out
	}, 200)
}

func TestNodesContract(t *testing.T) {
	namestest.RunNodes(t, func(t *testing.T, nodes ...string) []ports.Nodes {
		room := localroom.NewRoom()
		out := make([]ports.Nodes, len(nodes))
		for i, n := range nodes {
			out[i] = room.Nodes(n)
		}
		return out
	})
}

func TestFileShareContract(t *testing.T) {
	filesharetest.Run(t, func(t *testing.T, nodes ...string) filesharetest.Shares {
		room := localroom.NewRoom()
		s := filesharetest.Shares{Chunk: 64 << 10, Window: 1}
		for _, n := range nodes {
			s.Nodes = append(s.Nodes, room.Files(n, s.Chunk))
		}
		return s
	})
}
