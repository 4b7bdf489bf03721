package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Busy lists other heavy processes on the machine (go test runs, test
// binaries, builds) that would share the CPUs with a benchmark.
func Busy() []string {
	self := os.Getpid()
	parent := os.Getppid()
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if pid == self || pid == parent {
			continue
		}
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		base := filepath.Base(args[0])
		heavy := strings.HasSuffix(base, ".test") ||
			(base == "go" && len(args) > 1 && (args[1] == "test" || args[1] == "build" || args[1] == "vet"))
		if heavy {
			out = append(out, strconv.Itoa(pid)+" "+strings.Join(args, " "))
		}
	}
	return out
}

// LoadAvg is the first field of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// WaitQuiet waits up to max for Busy to be empty and reports whether it was.
func WaitQuiet(max time.Duration, log func(string)) bool {
	end := time.Now().Add(max)
	for {
		b := Busy()
		if len(b) == 0 {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		log("waiting for quiet: " + strings.Join(b, "; "))
		time.Sleep(15 * time.Second)
	}
}
