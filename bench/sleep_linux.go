package bench

import (
	"runtime"
	"syscall"
	"time"
)

// spinTail is how much of a delay preciseSleep spins instead of sleeping:
// a little more than nanosleep's usual lateness on a busy machine.
const spinTail = 150 * time.Microsecond

// preciseSleep waits d to within a few microseconds. time.Sleep cannot
// here: the runtime's timers wake through epoll, whose timeout is whole
// milliseconds, so a 200 µs sleep takes over 1 ms. nanosleep blocks only
// this thread and is late by tens of microseconds, so the last spinTail
// is spun, yielding to other goroutines.
func preciseSleep(d time.Duration) {
	end := time.Now().Add(d)
	if d > spinTail {
		ts := syscall.NsecToTimespec(int64(d - spinTail))
		for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
		}
	}
	for time.Now().Before(end) {
		runtime.Gosched()
	}
}
