package tatum_test

import (
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gokms/gokms/tatum"
)

func info(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gokms/gokms", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

const rev = "309026d1a2b3c4d5e6f708192a3b4c5d6e7f8091"

func TestBuildFrom(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		ldVer, ldRev, ldDirty string
		str, ua               string
	}{
		{"no build info", nil, "", "", "", "dev", "gokms/dev (" + "GOVERSION" + ")"},
		{"go test / go run", info("(devel)"), "", "", "", "dev", "gokms/dev (go1.26.8)"},
		{"tagged clean build", info("v1.2.3", "vcs.revision", rev, "vcs.modified", "false"), "", "", "",
			"v1.2.3 (commit 309026d1a2b3)", "gokms/v1.2.3 (309026d1a2b3; go1.26.8)"},
		{"untagged dirty build", info("v0.0.0-20261201224122-309026d1a2b3+dirty", "vcs.revision", rev, "vcs.modified", "true"), "", "", "",
			"v0.0.0-20261201224122-309026d1a2b3+dirty (commit 309026d1a2b3, dirty)",
			"gokms/v0.0.0-20261201224122-309026d1a2b3+dirty (309026d1a2b3; dirty; go1.26.8)"},
		{"ldflags win over build info", info("v0.0.0-x", "vcs.revision", "aaaa", "vcs.modified", "true"), "v2.0.0", rev, "false",
			"v2.0.0 (commit 309026d1a2b3)", "gokms/v2.0.0 (309026d1a2b3; go1.26.8)"},
		{"ldflags without .git", info("(devel)"), "v2.0.0-rc.1", rev, "true",
			"v2.0.0-rc.1 (commit 309026d1a2b3, dirty)", "gokms/v2.0.0-rc.1 (309026d1a2b3; dirty; go1.26.8)"},
		{"hostile ldflags version cannot break the header", info("(devel)"), "v1 (x)\r\nX-Evil: 1/;", "", "",
			"v1 (x)\r\nX-Evil: 1/;", "gokms/v1-xX-Evil:-1-- (go1.26.8)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tatum.BuildFrom(tc.bi, tc.ldVer, tc.ldRev, tc.ldDirty)
			if got := b.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			want := strings.ReplaceAll(tc.ua, "GOVERSION", b.GoVersion)
			if got := b.UserAgent(); got != want {
				t.Errorf("UserAgent() = %q, want %q", got, want)
			}
		})
	}
}

// TestDefaultUserAgent: a client built without Options.UserAgent sends the
// binary's own build in the header (it used to send a bare "gokms").
func TestDefaultUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("User-Agent"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	c := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: "k", Retries: -1})
	_, _ = c.Get(t.Context(), "61fe7c68cf2fbc595cbb89dd")
	ua := <-got
	if want := tatum.ReadBuild().UserAgent(); ua != want || !strings.HasPrefix(ua, "gokms/") {
		t.Fatalf("User-Agent = %q, want %q", ua, want)
	}
}
