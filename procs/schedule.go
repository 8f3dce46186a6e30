package procs

import "time"

// Schedule gives a scheduled unit's run times: Next returns the first time
// after t a run is due (the zero time: never again). A cron expression
// parsed by github.com/robfig/cron/v3 is one; procs does not parse them.
type Schedule interface {
	Next(t time.Time) time.Time
}
