package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		name string
		rec  *domain.Record
		want domain.Command
		err  error
	}{
		{"who", domain.NewRecord(domain.Field{Key: "command", Value: domain.Str("who")}), domain.Who, nil},
		{"unknown", domain.NewRecord(domain.Field{Key: "command", Value: domain.Str("kick")}), domain.NoCommand, domain.ErrUnknownCommand},
		{"not a string", domain.NewRecord(domain.Field{Key: "command", Value: domain.ListOf()}), domain.NoCommand, domain.ErrUnknownCommand},
		{"with text it is a message", domain.NewRecord(domain.Field{Key: "command", Value: domain.Str("who")}, domain.Field{Key: "text", Value: domain.Str("hi")}), domain.NoCommand, nil},
		{"neither", domain.NewRecord(domain.Field{Key: "x", Value: domain.Str("y")}), domain.NoCommand, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseCommand(tc.rec)
			assert.Equal(t, tc.want, got)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Equal(t, "unknown command", err.Error())
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestWhoReplyRoundTrip(t *testing.T) {
	var r domain.Record
	at := time.Date(2021, 9, 27, 12, 34, 56, 0, time.UTC)
	domain.BuildWhoReply(&r, at, []string{"Ivan", "Maria", "Olga"})

	keys := []string{}
	for _, f := range r.Fields() {
		keys = append(keys, f.Key)
	}
	assert.Equal(t, []string{"time", "nickname", "text", "users"}, keys)
	text, _ := r.GetString("text")
	assert.Equal(t, "Online (3): Ivan, Maria, Olga", text)
	users, ok := domain.ParseWhoReply(&r)
	require.True(t, ok)
	assert.Equal(t, []string{"Ivan", "Maria", "Olga"}, users)

	var plain domain.Record
	domain.BuildNotice(&plain, at, "hello")
	_, ok = domain.ParseWhoReply(&plain)
	assert.False(t, ok)
}
