package webpage_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/webpage"
)

func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	webpage.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestThePageIsOneSmallFileThatFetchesNothing(t *testing.T) {
	resp, body := get(t, "/")

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Less(t, len(body), 60<<10, "the page stays under 60 KiB")
	assert.NotRegexp(t, `(?i)<(script|link|img|iframe)[^>]*(src|href)=`, body, "nothing is loaded from elsewhere")
	assert.NotContains(t, body, "innerHTML", "text is inserted as text")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
}

func TestThePolicyAllowsOnlyThePagesOwnStyleAndScript(t *testing.T) {
	resp, body := get(t, "/")
	csp := resp.Header.Get("Content-Security-Policy")

	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	for _, kind := range []string{"style", "script"} {
		m := regexp.MustCompile(`(?s)<` + kind + `>(.*?)</` + kind + `>`).FindStringSubmatch(body)
		require.NotNil(t, m, kind)
		sum := sha256.Sum256([]byte(m[1]))
		want := kind + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		assert.True(t, strings.Contains(csp, want), "%s in %s", want, csp)
	}
}

func TestOtherPathsAreNotFound(t *testing.T) {
	resp, _ := get(t, "/etc/passwd")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
