package tatum

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Release builds set these with -ldflags (scripts/release.sh does):
//
//	-X github.com/gokms/gokms/tatum.buildVersion=v1.2.3
//	-X github.com/gokms/gokms/tatum.buildCommit=<40-hex revision>
//	-X github.com/gokms/gokms/tatum.buildDirty=false
//
// They win over the module's build info, which a build from a source tarball
// or a container context without .git does not have.
var buildVersion, buildCommit, buildDirty string

// Build identifies the running gokms binary.
type Build struct {
	Version   string // "v1.2.3", a Go pseudo-version, or "dev" when unknown
	Commit    string // VCS revision the binary was built from; "" when unknown
	Dirty     bool   // the work tree had uncommitted changes
	GoVersion string // toolchain that built it
}

// ReadBuild returns the running binary's version, commit and dirty flag,
// from the -ldflags overrides above, else from the module's build info
// (go build stamps the VCS revision and, since Go 1.24, a version from tags).
func ReadBuild() Build {
	bi, _ := debug.ReadBuildInfo()
	return buildFrom(bi, buildVersion, buildCommit, buildDirty)
}

func buildFrom(bi *debug.BuildInfo, version, commit, dirty string) Build {
	b := Build{GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			b.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Dirty = s.Value == "true"
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	if commit != "" {
		b.Commit = commit
	}
	if dirty != "" {
		b.Dirty = dirty == "true"
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// ShortCommit is the first 12 hex digits of the commit, as Go's
// pseudo-versions show it; "" when unknown.
func (b Build) ShortCommit() string {
	if len(b.Commit) > 12 {
		return b.Commit[:12]
	}
	return b.Commit
}

// String is the human form: "v1.2.3 (commit 0123456789ab, dirty)", or
// just "dev" for a build that knows nothing about itself.
func (b Build) String() string {
	var extra []string
	if c := b.ShortCommit(); c != "" {
		extra = append(extra, "commit "+c)
	}
	if b.Dirty {
		extra = append(extra, "dirty")
	}
	if len(extra) == 0 {
		return b.Version
	}
	return b.Version + " (" + strings.Join(extra, ", ") + ")"
}

// UserAgent is the User-Agent header value (RFC 9110 product and comment):
// "gokms/v1.2.3 (0123456789ab; dirty; go1.26.8)".
func (b Build) UserAgent() string {
	var extra []string
	if c := b.ShortCommit(); c != "" {
		extra = append(extra, c)
	}
	if b.Dirty {
		extra = append(extra, "dirty")
	}
	if b.GoVersion != "" {
		extra = append(extra, b.GoVersion)
	}
	// The product version is one token: no spaces, slashes or semicolons.
	ua := "gokms/" + strings.NewReplacer(" ", "-", "/", "-", ";", "-").Replace(uaToken(b.Version))
	if len(extra) > 0 {
		ua += " (" + uaToken(strings.Join(extra, "; ")) + ")"
	}
	return ua
}

// uaToken drops what a header value cannot carry, so an odd -ldflags
// version never breaks (or splits) the request header.
func uaToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '(' || r == ')' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// noticeInterval is how often at most the upgrade notice is logged, as
// tatum-kms does (it repeats its notice every 30 s).
const noticeInterval = 30 * time.Second

// versionNotice turns the x-ttm-kms-latest-version response header
// ("<version>;<level>;<message>") into a rate-limited log line.
type versionNotice struct {
	mu      sync.Mutex
	last    time.Time
	current string
	now     func() time.Time
	log     *slog.Logger
}

func (v *versionNotice) observe(ctx context.Context, header string) {
	if header == "" {
		return
	}
	parts := strings.SplitN(header, ";", 3)
	latest := strings.ToLower(strings.TrimSpace(parts[0]))
	level, message := "", ""
	if len(parts) > 1 {
		level = strings.ToUpper(strings.TrimSpace(parts[1]))
	}
	if len(parts) > 2 {
		message = strings.TrimSpace(parts[2])
	}
	// Same conditions as tatum-kms: every part present and latest > current.
	if latest == "" || level == "" || message == "" || v.current == "" || compareVersions(latest, v.current) <= 0 {
		return
	}
	v.mu.Lock()
	now := v.now()
	if !v.last.IsZero() && now.Sub(v.last) < noticeInterval {
		v.mu.Unlock()
		return
	}
	v.last = now
	v.mu.Unlock()
	lvl := slog.LevelWarn
	if level == "ERROR" {
		lvl = slog.LevelError
	}
	v.log.Log(ctx, lvl, "the Tatum API reports a newer KMS version: "+message,
		"level", level, "current_version", v.current, "latest_version", latest)
}

// compareVersions compares two semantic versions ("8.0.1", "v8.1.0-rc.1"):
// -1, 0 or 1. Anything that does not parse compares as equal, so a garbled
// header never produces a notice.
func compareVersions(a, b string) int {
	pa, oka := parseVersion(a)
	pb, okb := parseVersion(b)
	if !oka || !okb {
		return 0
	}
	for i := 0; i < 3; i++ {
		if pa.core[i] != pb.core[i] {
			if pa.core[i] < pb.core[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case pa.pre == "" && pb.pre == "":
		return 0
	case pa.pre == "": // a release is newer than its pre-releases
		return 1
	case pb.pre == "":
		return -1
	}
	return comparePre(pa.pre, pb.pre)
}

type version struct {
	core [3]uint64
	pre  string
}

func parseVersion(s string) (version, bool) {
	var v version
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(s, '+'); i >= 0 { // build metadata is ignored
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.pre = s[i+1:]
		s = s[:i]
	}
	nums := strings.Split(s, ".")
	if len(nums) == 0 || len(nums) > 3 {
		return v, false
	}
	for i, n := range nums {
		x, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return v, false
		}
		v.core[i] = x
	}
	return v, true
}

// comparePre orders pre-release identifiers as semver 2.0.0 §11 does.
func comparePre(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.ParseUint(as[i], 10, 64)
		y, erry := strconv.ParseUint(bs[i], 10, 64)
		switch {
		case errx == nil && erry == nil:
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case errx == nil:
			return -1 // numeric identifiers sort before alphanumeric ones
		case erry == nil:
			return 1
		default:
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(as) < len(bs):
		return -1
	case len(as) > len(bs):
		return 1
	}
	return 0
}
