package domain_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func nick(t *testing.T, s string) domain.Nickname {
	t.Helper()
	n, err := domain.ParseNickname(s)
	require.NoError(t, err)
	return n
}

func TestRegistryServerIsAlwaysTaken(t *testing.T) {
	for _, name := range []string{"SERVER", "server", "Server", "sErVeR", "Ｓｅｒｖｅｒ", "ＳＥＲＶＥＲ",
		"ЅЕRVЕR", "𝐒𝐄𝐑𝐕𝐄𝐑", "𝘚𝘌𝘙𝘝𝘌𝘙", "SERVЕR", "ꓢꓰꓣꓦꓰꓣ",
		"SΕRVΕR", "sΕrvΕr", "ᏚᎬᎡᏙᎬᎡ", "ՏERVER", "SERVEᏒ"} {
		t.Run(name, func(t *testing.T) {
			reg := domain.NewRegistry()
			assert.ErrorIs(t, reg.Claim(nick(t, name)), domain.ErrNicknameTaken)
			assert.Equal(t, 0, reg.Len())
		})
	}
}

func TestRegistryUniquenessByFold(t *testing.T) {
	tests := []struct {
		name, holder, claimant string
	}{
		{"same spelling", "Ivan", "Ivan"},
		{"other case", "Ivan", "ivan"},
		{"upper case", "ivan", "IVAN"},
		{"full width", "Ivan", "Ｉｖａｎ"},
		{"cyrillic case", "Иван", "иВАН"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := domain.NewRegistry()
			require.NoError(t, reg.Claim(nick(t, tt.holder)))
			err := reg.Claim(nick(t, tt.claimant))
			require.ErrorIs(t, err, domain.ErrNicknameTaken)
			assert.EqualError(t, err, "this nickname is already taken")
			assert.Equal(t, 1, reg.Len())
		})
	}
}

// PROTOCOL.md section 4: two nicknames whose skeletons (after folding)
// are equal cannot both be logged in, whichever came first.
func TestRegistryRefusesLookalikes(t *testing.T) {
	tests := []struct {
		name, holder, claimant string
	}{
		{"Greek capital Iota for I", "Ivan", "Ιvan"},
		{"I for Greek capital Iota", "Ιvan", "Ivan"},
		{"Roman numeral one for I", "Ivan", "Ⅰvan"},
		{"Cyrillic a and o", "bob_and_alice", "bоb_аnd_аlice"},
		{"mathematical bold", "Olga", "𝐎𝐥𝐠𝐚"},
		{"r and n for m (TR39 says so; intended)", "Emma", "Ernrna"},
		{"m for r and n", "ernrna", "Emma"},
		{"zero for o", "bob", "b0b"},
		{"one for l", "userl", "user1"},
		{"mixed alphabets", "paypal", "𝔭𝒶ỿ𝕡𝕒ℓ"},
		// Same shape: capitals that look Latin but fold to letters that
		// do not.
		{"Greek capitals", "IVAN", "ΙVΑΝ"},
		{"Latin for Greek capitals", "ΙVΑΝ", "IVAN"},
		{"Cyrillic capitals", "BOB", "ВОВ"},
		{"Cherokee capitals", "SHE", "ᏚᎻᎬ"},
		{"small l for capital I (the price of shapes)", "Ivan", "lvan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := domain.NewRegistry()
			require.NoError(t, reg.Claim(nick(t, tt.holder)))
			assert.ErrorIs(t, reg.Claim(nick(t, tt.claimant)), domain.ErrNicknameTaken)
			assert.Equal(t, 1, reg.Len())
		})
	}
}

func TestRegistryDistinctNamesCoexist(t *testing.T) {
	reg := domain.NewRegistry()
	names := []string{"Ivan", "Ivanka", "Иван", "Мария", "Maria", "李雷", "李", "user42", "user43", "42", "Olga", "ivan_2"}
	for _, name := range names {
		require.NoError(t, reg.Claim(nick(t, name)), "%q", name)
	}
	assert.Equal(t, len(names), reg.Len())
}

func TestRegistryReleaseFreesTheShape(t *testing.T) {
	reg := domain.NewRegistry()
	bob := nick(t, "BOB")
	require.NoError(t, reg.Claim(bob))
	require.ErrorIs(t, reg.Claim(nick(t, "ВОВ")), domain.ErrNicknameTaken)
	reg.Release(bob)
	require.NoError(t, reg.Claim(nick(t, "ВОВ")), "the look-alike may take it now")
	assert.Equal(t, 1, reg.Len())
}

func TestRegistryReleaseFreesTheName(t *testing.T) {
	reg := domain.NewRegistry()
	ivan := nick(t, "Ivan")
	require.NoError(t, reg.Claim(ivan))
	reg.Release(ivan)
	assert.Equal(t, 0, reg.Len())
	require.NoError(t, reg.Claim(nick(t, "ivan")), "another spelling may take it now")
	assert.Equal(t, 1, reg.Len())
}

func TestRegistryRefusesZeroNickname(t *testing.T) {
	reg := domain.NewRegistry()
	assert.ErrorIs(t, reg.Claim(domain.Nickname{}), domain.ErrNicknameRequired)
	assert.Equal(t, 0, reg.Len())
}

func TestRegistryConcurrentClaimHasOneWinner(t *testing.T) {
	const claimants = 64
	reg := domain.NewRegistry()
	spellings := []string{"Ivan", "ivan", "IVAN", "Ｉｖａｎ"}
	var winners, losers atomic.Int32
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	for i := range claimants {
		n := nick(t, spellings[i%len(spellings)])
		done.Go(func() {
			start.Wait()
			switch err := reg.Claim(n); err {
			case nil:
				winners.Add(1)
			case domain.ErrNicknameTaken:
				losers.Add(1)
			}
		})
	}
	start.Done()
	done.Wait()
	assert.Equal(t, int32(1), winners.Load())
	assert.Equal(t, int32(claimants-1), losers.Load())
	assert.Equal(t, 1, reg.Len())
}
