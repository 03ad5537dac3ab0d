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
	for _, name := range []string{"SERVER", "server", "Server", "sErVeR", "Ｓｅｒｖｅｒ", "ＳＥＲＶＥＲ"} {
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

func TestRegistryDistinctNamesCoexist(t *testing.T) {
	reg := domain.NewRegistry()
	require.NoError(t, reg.Claim(nick(t, "Ivan")))
	require.NoError(t, reg.Claim(nick(t, "Ivanka")))
	require.NoError(t, reg.Claim(nick(t, "Иван")), "cyrillic does not fold to latin")
	assert.Equal(t, 3, reg.Len())
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
