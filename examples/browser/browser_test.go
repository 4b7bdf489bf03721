// Package browser drives the gin example in headless Chromium, as a person
// would: two devices of one user, each in its own isolated browser context
// (its own cookies), log in, see each other under "Your devices", and one
// revokes the other. It is its own module so that library users never
// download the browser driver.
//
//	cd examples/browser && go test ./...
//	go test -run TestTwoDevices -args -demo-png ../../docs/demo.png   # refresh the README's screenshot
//
// Chromium is looked up as $CHROMIUM, then chromium, chromium-browser,
// google-chrome on PATH; without one the test is skipped, or fails when
// BROWSER_TEST_REQUIRED is set (as .ci/run sets it).
package browser

import (
	"bufio"
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

var demoPNG = flag.String("demo-png", "", "also write the two-devices screenshot to this file (the README's docs/demo.png)")

// User agents of the two devices, so the device list tells them apart.
const (
	laptopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	phoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

func TestTwoDevices(t *testing.T) {
	chromium := findChromium(t)
	base := startDemo(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.WindowSize(1000, 620),
		// No network here: without these Chromium stalls on lookups.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start Chromium %s: %v", chromium, err)
	}

	// Two isolated browser contexts: two devices with separate cookie jars.
	laptop, cancelLaptop := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancelLaptop()
	phone, cancelPhone := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancelPhone()

	shots := t.TempDir()
	shot := func(dev context.Context, name string) string {
		t.Helper()
		png, err := chromedp.Run(dev, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(shots, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
		return path
	}
	do := func(dev context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(dev, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(dev context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(dev, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	rows := func(dev context.Context) int {
		t.Helper()
		n, err := chromedp.Run(dev, chromedp.Evaluate[int](`document.querySelectorAll("tr.device").length`))
		if err != nil {
			t.Fatalf("count devices: %v", err)
		}
		return n
	}
	login := func(dev context.Context, ua string) {
		t.Helper()
		do(dev, "log in",
			userAgent(ua),
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "alice"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "wonderland"),
			chromedp.Click(chromedp.ID("login")),
			chromedp.WaitVisible(chromedp.ID("logout")),
		)
	}

	login(laptop, laptopUA)
	do(laptop, "add to cart", chromedp.Click(chromedp.ID("add-tea")), chromedp.WaitVisible(chromedp.ID("cart")))
	login(phone, phoneUA)

	do(laptop, "open Your devices", chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.ID("devices")))
	list := text(laptop, "#devices")
	if n := rows(laptop); n != 2 || !strings.Contains(list, "this device") ||
		!strings.Contains(list, "Chrome on Linux") || !strings.Contains(list, "Safari on iPhone") {
		t.Fatalf("the laptop's device list has %d rows, want both devices with this one marked:\n%s", n, list)
	}
	png := shot(laptop, "1-laptop-two-devices.png")
	if *demoPNG != "" {
		copyFile(t, png, *demoPNG)
	}
	do(phone, "open Your devices on the phone", chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.ID("devices")))
	if n := rows(phone); n != 2 {
		t.Fatalf("the phone's device list has %d rows, want 2", n)
	}
	shot(phone, "2-phone-two-devices.png")

	do(laptop, "revoke the phone",
		chromedp.Click(chromedp.CSS(`tr.device:not(.current) button.revoke`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if n, flash := rows(laptop), text(laptop, ".flash"); n != 1 || !strings.Contains(flash, "The device is logged out.") {
		t.Fatalf("after revoking: %d rows, flash %q; want 1 row and the device logged out", n, flash)
	}
	shot(laptop, "3-laptop-revoked-phone.png")

	// The phone's next request finds its session gone: back to the login form.
	do(phone, "reload on the phone", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("login")))
	location, err := chromedp.Run(phone, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(location, "/login") {
		t.Fatalf("the revoked phone is at %s, want the login form", location)
	}
	shot(phone, "4-phone-logged-out.png")

	do(laptop, "the laptop stays logged in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("logout")))
	if n := text(laptop, "#cart-count"); n != "1" {
		t.Errorf("the laptop's cart has %q items, want 1", n)
	}
}

// userAgent makes the tab send ua, so the device list tells the two
// devices apart.
func userAgent(ua string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
		return err
	})
}

func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium installed (apt-get install -y chromium, or set CHROMIUM=/path/to/chrome)"
	if os.Getenv("BROWSER_TEST_REQUIRED") != "" {
		t.Fatal(msg + ", and BROWSER_TEST_REQUIRED is set")
	}
	t.Skip(msg + ": skipping the browser test")
	return ""
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startDemo builds the gin example, starts it on a free port with its
// embedded Redis, and returns its URL. It is stopped with Ctrl-C (SIGINT)
// when the test ends, and must then exit cleanly.
func startDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gin-demo")
	build := exec.Command("go", "build", "-o", bin, "./examples/gin")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/gin: %v\n%s", err, out)
	}

	cmd := exec.Command(bin)
	cmd.Env = append(withoutVar(os.Environ(), "REDIS_URL"), "ADDR=127.0.0.1:0", "GIN_MODE=release")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { <-done; exited <- cmd.Wait() }()

	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the demo did not exit cleanly on Ctrl-C: %v\n%s", err, logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the demo did not stop within 10s of Ctrl-C\n%s", logs.String())
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", logs.String())
		}
	})

	select {
	case u := <-urls:
		t.Logf("demo at %s", u)
		return u
	case err := <-exited:
		t.Fatalf("the demo exited before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo printed no URL within 30s:\n%s", logs.String())
	}
	return ""
}

func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot copied to %s", to)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteString(s string) {
	_, _ = l.Write([]byte(s))
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
