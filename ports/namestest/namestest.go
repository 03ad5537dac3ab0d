// Package namestest holds the contract suites of the nickname registry and
// liveness ports (ports.Names, ports.Nodes): every adapter runs them from
// its own tests, so that the application may rely on one behaviour whether
// its nodes share a process or a NATS cluster.
package namestest

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
	"pcx/ports"
)

// patience bounds how long the suite waits for what must happen; it turns a
// hang into a failure, it is not a performance bound.
const patience = 10 * time.Second

// NamesFactory returns one registry per node name, all of one room.
type NamesFactory func(t *testing.T, nodes ...string) []ports.Names

// NodesFactory returns one liveness per node name, all of one room, none
// watching yet. The suite closes them.
type NodesFactory func(t *testing.T, nodes ...string) []ports.Nodes

// RunNames runs the registry's contract suite against the registries f
// makes. races is how many rounds the claim race runs.
func RunNames(t *testing.T, f NamesFactory, races int) {
	t.Run("claim refuses what is held anywhere", func(t *testing.T) { testClaimRefuses(t, f) })
	t.Run("claim takes key and shape or neither", func(t *testing.T) { testBothOrNeither(t, f) })
	t.Run("release frees only the holder's own", func(t *testing.T) { testRelease(t, f) })
	t.Run("list and release a node", func(t *testing.T) { testReleaseNode(t, f) })
	t.Run("one winner of a claim race across nodes", func(t *testing.T) { testRace(t, f, races) })
	t.Run("claims are ordered across nodes", func(t *testing.T) { testClaimOrder(t, f) })
}

// RunNodes runs the liveness contract suite against f's.
func RunNodes(t *testing.T, f NodesFactory) {
	t.Run("a closed node is seen gone once", func(t *testing.T) { testNodeClosed(t, f) })
	t.Run("a live node's name is refused", func(t *testing.T) { testNameAlive(t, f) })
	t.Run("one winner of a race for a name", func(t *testing.T) { testNameRace(t, f) })
}

// Nick parses s.
func Nick(t *testing.T, s string) domain.Nickname {
	t.Helper()
	n, err := domain.ParseNickname(s)
	require.NoError(t, err, "%q", s)
	return n
}

func testClaimRefuses(t *testing.T, f NamesFactory) {
	ctx := context.Background()
	regs := f(t, "a", "b")
	a, b := regs[0], regs[1]
	require.NoError(t, claim(ctx, a, Nick(t, "Ivan")))
	for _, s := range []string{"Ivan", "ivan", "IVAN", "Ｉｖａｎ", "Ιvan", "lvan"} {
		assert.ErrorIs(t, claim(ctx, a, Nick(t, s)), domain.ErrNicknameTaken, "%q on the holder's node", s)
		assert.ErrorIs(t, claim(ctx, b, Nick(t, s)), domain.ErrNicknameTaken, "%q on another node", s)
	}
	for _, s := range []string{"SERVER", "server", "Ｓｅｒｖｅｒ", "ЅЕRVЕR", "𝐒𝐄𝐑𝐕𝐄𝐑"} {
		assert.ErrorIs(t, claim(ctx, b, Nick(t, s)), domain.ErrNicknameTaken, "%q is the server's", s)
	}
	assert.ErrorIs(t, claim(ctx, b, domain.Nickname{}), domain.ErrNicknameRequired)
	require.NoError(t, claim(ctx, b, Nick(t, "Иван")), "a distinct name is free")

	listShows(t, b, "a:Ivan", "b:Иван")
}

// listShows waits until r's List shows exactly want ("node:nickname", in
// any order). A replicated store's list may lag the latest claims and
// releases for a moment (ports.Names.List), so the list must come to show
// want, not show it at once; a name held twice, or never freed, still
// fails after patience.
func listShows(t *testing.T, r ports.Names, want ...string) {
	t.Helper()
	var last []string
	ok := assert.Eventually(t, func() bool {
		held, err := r.List(context.Background())
		if err != nil {
			last = []string{err.Error()}
			return false
		}
		last = holders(held)
		return assert.ElementsMatch(noT{}, want, last)
	}, patience, 5*time.Millisecond)
	if !ok {
		t.Errorf("list shows %q, want %q", last, want)
	}
}

// noT swallows the reports of a check that is tried again.
type noT struct{}

func (noT) Errorf(string, ...any) {}

// claim is Names.Claim without the order, for the tests that are not
// about it.
func claim(ctx context.Context, r ports.Names, n domain.Nickname) error {
	_, err := r.Claim(ctx, n)
	return err
}

// testClaimOrder: a claim that ends before another begins gets a smaller
// order, whichever nodes make them; claims at once, on both nodes, get
// distinct orders; a refused claim gets none. The server relies on it to
// tell a join only to those who logged in before it.
func testClaimOrder(t *testing.T, f NamesFactory) {
	ctx := context.Background()
	regs := f(t, "a", "b")
	var last uint64
	for i := range 6 {
		order, err := regs[i%2].Claim(ctx, Nick(t, "Seq"+strconv.Itoa(i)))
		require.NoError(t, err)
		require.Greater(t, order, last, "claim %d, one after another", i)
		last = order
	}
	order, err := regs[1].Claim(ctx, Nick(t, "seq0"))
	require.ErrorIs(t, err, domain.ErrNicknameTaken)
	assert.Zero(t, order, "a refused claim")

	const perNode = 8
	orders := make(chan uint64, 2*perNode)
	var wg sync.WaitGroup
	for node, r := range regs {
		for g := range perNode {
			n := Nick(t, "At"+strconv.Itoa(node)+"x"+strconv.Itoa(g))
			wg.Go(func() {
				order, err := r.Claim(ctx, n)
				if assert.NoError(t, err) {
					orders <- order
				}
			})
		}
	}
	wg.Wait()
	close(orders)
	seen := make(map[uint64]bool)
	var highest uint64
	for order := range orders {
		assert.Greater(t, order, last, "a claim at once, after the ones before")
		assert.False(t, seen[order], "order %d given twice", order)
		seen[order] = true
		highest = max(highest, order)
	}
	assert.Len(t, seen, 2*perNode)
	order, err = regs[0].Claim(ctx, Nick(t, "After"))
	require.NoError(t, err)
	assert.Greater(t, order, highest, "a claim after them all")
}

func holders(hs []ports.NameHolder) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Node + ":" + h.Nickname.String()
	}
	return out
}

// A claim refused for its shape must not keep its key: IVAN and ΙVΑΝ
// (Greek capitals) have one shape and two keys.
func testBothOrNeither(t *testing.T, f NamesFactory) {
	ctx := context.Background()
	regs := f(t, "a", "b")
	a, b := regs[0], regs[1]
	latin, greek := Nick(t, "IVAN"), Nick(t, "ΙVΑΝ")
	require.NotEqual(t, latin.Key(), greek.Key())
	require.Equal(t, latin.Shape(), greek.Shape())

	require.NoError(t, claim(ctx, a, latin))
	require.ErrorIs(t, claim(ctx, b, greek), domain.ErrNicknameTaken)
	listShows(t, a, "a:IVAN")

	require.NoError(t, a.Release(ctx, latin))
	require.NoError(t, claim(ctx, b, greek), "the refused claim left nothing behind")
}

func testRelease(t *testing.T, f NamesFactory) {
	ctx := context.Background()
	regs := f(t, "a", "b")
	a, b := regs[0], regs[1]
	bob := Nick(t, "BOB")
	require.NoError(t, claim(ctx, a, bob))

	require.NoError(t, b.Release(ctx, bob), "another node's release")
	require.NoError(t, b.Release(ctx, Nick(t, "bob")), "another node's release of a spelling")
	require.ErrorIs(t, claim(ctx, b, Nick(t, "ВОВ")), domain.ErrNicknameTaken, "still held")

	require.NoError(t, a.Release(ctx, bob))
	require.NoError(t, a.Release(ctx, bob), "twice")
	require.NoError(t, b.Release(ctx, Nick(t, "Nobody")), "what no one holds")
	require.NoError(t, claim(ctx, b, Nick(t, "ВОВ")), "the look-alike may take it now")
	listShows(t, a, "b:ВОВ")
}

func testReleaseNode(t *testing.T, f NamesFactory) {
	ctx := context.Background()
	regs := f(t, "a", "b", "c")
	a, b, c := regs[0], regs[1], regs[2]
	for _, s := range []string{"Ivan", "Olga", "Мария"} {
		require.NoError(t, claim(ctx, a, Nick(t, s)))
	}
	require.NoError(t, claim(ctx, b, Nick(t, "Emma")))
	listShows(t, c, "a:Ivan", "a:Olga", "a:Мария", "b:Emma")

	// b and c both free a's names, at once and again.
	var wg sync.WaitGroup
	for _, r := range []ports.Names{b, c, b} {
		wg.Go(func() { assert.NoError(t, r.ReleaseNode(ctx, "a")) })
	}
	wg.Wait()
	listShows(t, c, "b:Emma")
	require.NoError(t, claim(ctx, c, Nick(t, "ivan")), "a's names are free")
	require.ErrorIs(t, claim(ctx, c, Nick(t, "emma")), domain.ErrNicknameTaken, "b's are not")
}

// testRace: in each round goroutines on both nodes claim spellings of one
// nickname at once; exactly one wins, and its release frees it for the
// next round.
func testRace(t *testing.T, f NamesFactory, rounds int) {
	const perNode = 4
	ctx := context.Background()
	regs := f(t, "a", "b")
	spellings := []string{"Ivan", "ivan", "IVAN", "Ｉｖａｎ"} // one key
	for round := range rounds {
		var winners atomic.Int32
		var won atomic.Pointer[domain.Nickname]
		var wonBy atomic.Int32
		var start, done sync.WaitGroup
		start.Add(1)
		for node, r := range regs {
			for g := range perNode {
				n := Nick(t, spellings[(round+g+node)%len(spellings)])
				done.Go(func() {
					start.Wait()
					err := claim(ctx, r, n)
					switch {
					case err == nil:
						winners.Add(1)
						won.Store(&n)
						wonBy.Store(int32(node))
					case !assert.ErrorIs(t, err, domain.ErrNicknameTaken):
					}
				})
			}
		}
		start.Done()
		done.Wait()
		require.Equal(t, int32(1), winners.Load(), "round %d: one winner", round)
		// Another node's list may lag the claim a moment on a replicated
		// store; it must come to show exactly the one winner.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			held, err := regs[0].List(ctx)
			require.NoError(c, err)
			require.Len(c, held, 1, "round %d", round)
		}, 5*time.Second, 5*time.Millisecond)
		require.NoError(t, regs[wonBy.Load()].Release(ctx, *won.Load()))
	}
}

// watchNodes starts every liveness with a recorder of the nodes it sees gone.
func watchNodes(t *testing.T, nodes []ports.Nodes) []*goneRecorder {
	t.Helper()
	recs := make([]*goneRecorder, len(nodes))
	for i, n := range nodes {
		recs[i] = &goneRecorder{changed: make(chan struct{}, 1)}
		require.NoError(t, n.Watch(recs[i].gone))
		t.Cleanup(func() { _ = n.Close() })
	}
	return recs
}

// goneRecorder keeps the nodes reported gone.
type goneRecorder struct {
	mu      sync.Mutex // guards nodes
	nodes   []string
	changed chan struct{} // one slot
}

func (g *goneRecorder) gone(node string) {
	g.mu.Lock()
	g.nodes = append(g.nodes, node)
	g.mu.Unlock()
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// Gone returns the nodes reported gone so far.
func (g *goneRecorder) Gone() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.nodes)
}

// waitGone waits until node is reported gone and returns how long it took.
func (g *goneRecorder) waitGone(t *testing.T, node string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for !slices.Contains(g.Gone(), node) {
		select {
		case <-g.changed:
		case <-deadline:
			t.Fatalf("node %s not seen gone within %v", node, within)
		}
	}
	return time.Since(start)
}

// WaitAlive waits until n sees exactly want alive.
func WaitAlive(t *testing.T, n ports.Nodes, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		got, err = n.Alive(context.Background())
		require.NoError(t, err)
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("alive: got %v, want %v", got, want)
}

func testNodeClosed(t *testing.T, f NodesFactory) {
	nodes := f(t, "a", "b", "c")
	recs := watchNodes(t, nodes)
	WaitAlive(t, nodes[0], "a", "b", "c")

	require.NoError(t, nodes[2].Close())
	for _, r := range recs[:2] {
		r.waitGone(t, "c", patience)
	}
	WaitAlive(t, nodes[0], "a", "b")
	require.NoError(t, nodes[1].Close())
	recs[0].waitGone(t, "b", patience)
	require.NoError(t, nodes[0].Close())

	// Once each, and never a node's own.
	assert.Equal(t, []string{"c", "b"}, recs[0].Gone())
	assert.Equal(t, []string{"c"}, recs[1].Gone())
	assert.Empty(t, recs[2].Gone())
}

// A second node of a live node's name is refused and announces nothing:
// the first stays alive for the others, even once the second closes; a
// clean close of the first frees the name at once.
func testNameAlive(t *testing.T, f NodesFactory) {
	nodes := f(t, "a", "b", "a", "a")
	recs := watchNodes(t, nodes[:2])
	WaitAlive(t, nodes[1], "a", "b")

	err := nodes[2].Watch(func(string) {})
	var alive *ports.NodeAliveError
	require.ErrorAs(t, err, &alive)
	assert.Equal(t, "a", alive.Node)
	assert.GreaterOrEqual(t, alive.Age, time.Duration(0))
	require.NoError(t, nodes[2].Close())
	time.Sleep(100 * time.Millisecond) // a wrongly removed announcement would be seen by now
	WaitAlive(t, nodes[1], "a", "b")
	assert.Empty(t, recs[1].Gone())

	require.NoError(t, nodes[0].Close())
	recs[1].waitGone(t, "a", patience)
	require.NoError(t, nodes[3].Watch(func(string) {}), "the name of a node that closed")
	t.Cleanup(func() { _ = nodes[3].Close() })
	WaitAlive(t, nodes[1], "a", "b")
}

// Of several nodes of one name starting at once, exactly one is alive.
func testNameRace(t *testing.T, f NodesFactory) {
	const racers = 5
	names := make([]string, racers)
	for i := range names {
		names[i] = "same"
	}
	nodes := f(t, names...)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, n := range nodes {
		wg.Go(func() {
			<-start
			errs[i] = n.Watch(func(string) {})
		})
	}
	close(start)
	wg.Wait()
	var won int
	for i, err := range errs {
		t.Cleanup(func() { _ = nodes[i].Close() })
		if err == nil {
			won++
			continue
		}
		var alive *ports.NodeAliveError
		assert.ErrorAs(t, err, &alive, "racer %d", i)
	}
	assert.Equal(t, 1, won, "watches that succeeded")
	WaitAlive(t, nodes[0], "same")
}

// WatchNodes starts every liveness and returns a function that waits until
// the i-th sees node gone, for the adapters' own tests.
func WatchNodes(t *testing.T, nodes []ports.Nodes) func(i int, node string, within time.Duration) time.Duration {
	recs := watchNodes(t, nodes)
	return func(i int, node string, within time.Duration) time.Duration {
		t.Helper()
		return recs[i].waitGone(t, node, within)
	}
}
