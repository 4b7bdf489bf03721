//go:build !linux

package bench

import "time"

// preciseSleep is time.Sleep where nanosleep is not at hand; the report
// shows the delay it really applied.
func preciseSleep(d time.Duration) { time.Sleep(d) }
