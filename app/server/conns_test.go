package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pcx/app/server"
)

func TestConnectionOverTheServerLimitIsToldAndClosed(t *testing.T) {
	h := start(t, server.Config{MaxConns: 2})
	ivan := h.login("Ivan")
	olga := h.dial()
	got := h.dial().ExpectClosed()
	require.Len(t, got, 1)
	status, _ := got[0].GetString("status")
	require.Equal(t, "error: too many connections on this server", status)
	olga.Login("Olga")
	ivan.Expect("SERVER", `User "Olga" connected`)
}
