package demo

import (
	"strings"
	"time"

	"github.com/redisession/redisession/core"
)

// Device is one of a user's sessions as the "Your devices" page shows it.
type Device struct {
	Handle    string // the session's public handle: what Revoke posts
	Name      string // "Chrome on Linux"
	UserAgent string
	Address   string
	Created   time.Time
	LastSeen  time.Time
	Current   bool // the session of the request that renders the page
}

// Devices turns a user's sessions into the device list; current is the
// handle of the request's own session, which comes first.
func Devices(list []core.SessionInfo, current string) []Device {
	out := make([]Device, 0, len(list))
	for _, s := range list {
		d := Device{
			Handle: s.Handle, Name: DeviceName(s.UserAgent), UserAgent: s.UserAgent,
			Address: s.RemoteAddr, Created: s.Created, LastSeen: s.LastSeen,
			Current: s.Handle == current,
		}
		if d.Current {
			out = append([]Device{d}, out...)
		} else {
			out = append(out, d)
		}
	}
	return out
}

// DeviceName names a browser and system from a User-Agent header, roughly:
// enough for a person to recognise their own devices.
func DeviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"HeadlessChrome/", "Headless Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"CriOS/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client/", "Go client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
