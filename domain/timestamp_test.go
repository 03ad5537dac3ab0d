package domain_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func TestFormatTime(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	for _, tt := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"example of the protocol", time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC), "2021-09-27 12:34:56.789000+00:00"},
		{"zero fraction keeps six digits", time.Date(2021, 9, 27, 12, 34, 56, 0, time.UTC), "2021-09-27 12:34:56.000000+00:00"},
		{"nanoseconds truncated", time.Date(2021, 9, 27, 12, 34, 56, 123456789, time.UTC), "2021-09-27 12:34:56.123456+00:00"},
		{"other zone converted to utc", time.Date(2021, 9, 27, 15, 34, 56, 1000, moscow), "2021-09-27 12:34:56.000001+00:00"},
		{"across midnight", time.Date(2022, 1, 1, 1, 0, 0, 0, moscow), "2021-12-31 22:00:00.000000+00:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.FormatTime(tt.at))
			assert.Equal(t, "x"+tt.want, string(domain.AppendTime([]byte("x"), tt.at)))
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)
	for _, tt := range []struct {
		name, input string
		want        time.Time
	}{
		{"our layout", "2021-09-27 12:34:56.789000+00:00", want},
		{"three digits", "2021-09-27 12:34:56.789+00:00", want},
		{"no fraction, as python writes a zero one", "2021-09-27 12:34:56+00:00", want.Truncate(time.Second)},
		{"other offset", "2021-09-27 15:34:56.789000+03:00", want},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseTime(tt.input)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %v", got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
	_, err := domain.ParseTime("yesterday")
	assert.ErrorContains(t, err, "domain: time")
}

func TestFormatParseRoundTrip(t *testing.T) {
	at := time.Date(2030, 2, 3, 4, 5, 6, 7000, time.UTC)
	got, err := domain.ParseTime(domain.FormatTime(at))
	require.NoError(t, err)
	assert.True(t, at.Equal(got))
}

// AppendTime writes its digits itself; it must write what AppendFormat does.
func TestAppendTimeIsAppendFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	times := []time.Time{{}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 9, 27, 15, 34, 56, 789000000, time.FixedZone("MSK", 3*3600))}
	for range 10000 {
		times = append(times, time.Unix(rng.Int64N(300_000_000_000)-100_000_000_000, rng.Int64N(1e9)))
	}
	for _, at := range times {
		want := at.UTC().AppendFormat([]byte("x"), domain.TimeLayout)
		require.Equal(t, string(want), string(domain.AppendTime([]byte("x"), at)), "%v", at)
	}
}
