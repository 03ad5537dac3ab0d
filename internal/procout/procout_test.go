package procout_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/internal/procout"
)

func TestASnapshotIsWokenByTheNextWrite(t *testing.T) {
	o := procout.New()
	fmt.Fprint(o, "one\n")
	text, changed := o.Snapshot()
	assert.Equal(t, "one\n", text)
	select {
	case <-changed:
		t.Fatal("woken before a write")
	default:
	}
	go fmt.Fprint(o, "two\n")
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("the write did not wake the reader")
	}
	require.Equal(t, "one\ntwo\n", o.String())
}
