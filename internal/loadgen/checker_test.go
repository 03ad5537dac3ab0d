package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChecker(t *testing.T) {
	type msg struct {
		sender int
		seq    uint64
	}
	// Receiver 2 of a run with 2 senders (0 and 1) of 4 messages each.
	all := []msg{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}}
	tests := []struct {
		name                        string
		msgs                        []msg
		lost, dup, reorder, garbled uint64
		verdicts                    map[int]Verdict // index in msgs -> verdict, when not Delivered
	}{
		{name: "everything in order", msgs: all},
		{name: "nothing arrived", msgs: nil, lost: 8},
		{name: "one missing in the middle", msgs: []msg{{0, 0}, {0, 2}, {0, 3}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, lost: 1},
		{name: "tail missing", msgs: []msg{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, lost: 2},
		{name: "one twice", msgs: append(append([]msg{}, all...), msg{1, 2}), dup: 1, verdicts: map[int]Verdict{8: Duplicate}},
		{name: "the first twice in a row", msgs: []msg{{0, 0}, {0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, dup: 1, verdicts: map[int]Verdict{1: Duplicate}},
		{name: "two swapped", msgs: []msg{{0, 0}, {0, 2}, {0, 1}, {0, 3}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, reorder: 1, verdicts: map[int]Verdict{2: Reordered}},
		{name: "a late arrival after many", msgs: []msg{{0, 1}, {0, 2}, {0, 3}, {0, 0}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, reorder: 1, verdicts: map[int]Verdict{3: Reordered}},
		{name: "interleaving senders is not reordering", msgs: []msg{{1, 0}, {1, 1}, {1, 2}, {1, 3}, {0, 0}, {0, 1}, {0, 2}, {0, 3}}},
		{name: "own message echoed", msgs: append(append([]msg{}, all...), msg{2, 0}), garbled: 1, verdicts: map[int]Verdict{8: Garbled}},
		{name: "unknown sender", msgs: append(append([]msg{}, all...), msg{5, 0}), garbled: 1, verdicts: map[int]Verdict{8: Garbled}},
		{name: "sequence past the count", msgs: append(append([]msg{}, all...), msg{0, 4}), garbled: 1, verdicts: map[int]Verdict{8: Garbled}},
		{name: "late duplicate of a reordered one", msgs: []msg{{0, 1}, {0, 0}, {0, 0}, {0, 2}, {0, 3}, {1, 0}, {1, 1}, {1, 2}, {1, 3}}, dup: 1, reorder: 1, verdicts: map[int]Verdict{1: Reordered, 2: Duplicate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(2, 4, 2)
			for i, m := range tt.msgs {
				want, ok := tt.verdicts[i]
				if !ok {
					want = Delivered
				}
				assert.Equal(t, want, c.Observe(Stamp{Sender: m.sender, Seq: m.seq}), "message %d %+v", i, m)
			}
			lost, dup, reorder, garbled := c.Counts()
			assert.Equal(t, []uint64{tt.lost, tt.dup, tt.reorder, tt.garbled}, []uint64{lost, dup, reorder, garbled},
				"lost, dup, reorder, garbled")
		})
	}
}

// The bitmap made at a sender's first anomaly must remember every message
// that came in order before it, across word boundaries.
func TestCheckerRemembersOrderedPrefix(t *testing.T) {
	for _, prefix := range []uint64{1, 63, 64, 65, 130} {
		c := NewChecker(1, 200, 1)
		for s := range prefix {
			c.Observe(Stamp{Seq: s})
		}
		c.Observe(Stamp{Seq: 199}) // the anomaly
		for s := range prefix {
			assert.Equal(t, Duplicate, c.Observe(Stamp{Seq: s}), "prefix %d seq %d", prefix, s)
		}
		assert.Equal(t, Reordered, c.Observe(Stamp{Seq: prefix}), "prefix %d", prefix)
		assert.Equal(t, prefix+2, c.Received(0))
	}
}

func TestCheckerGarbleCounts(t *testing.T) {
	c := NewChecker(1, 1, 1)
	c.Garble()
	_, _, _, garbled := c.Counts()
	assert.Equal(t, uint64(1), garbled)
}
