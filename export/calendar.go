package export

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// starBit is robfig/cron's mark on a field written as * or ?: it decides
// how day-of-month and day-of-week combine (see dayFields).
const starBit = 1 << 63

// field is one cron field's range of values.
type field struct{ min, max int }

// The cron fields' ranges, as robfig/cron reads them.
var (
	minutes  = field{0, 59}
	hours    = field{0, 23}
	days     = field{1, 31}
	months   = field{1, 12}
	weekdays = field{0, 6}
)

// schedule is a scheduled process's times in the two forms the engines
// take: calendar times (a cron table) or a fixed interval.
type schedule struct {
	spec  *cron.SpecSchedule // calendar times; nil for an interval
	every time.Duration      // @every
}

// readSchedule takes the parsed schedule apart. config parses schedules
// with cron.ParseStandard, so the two types below are all it makes; any
// other is reported rather than guessed at.
func readSchedule(s procs.Schedule, text string) (schedule, error) {
	switch v := s.(type) {
	case *cron.SpecSchedule:
		return schedule{spec: v}, nil
	case cron.ConstantDelaySchedule:
		return schedule{every: v.Delay}, nil
	case *cron.ConstantDelaySchedule:
		return schedule{every: v.Delay}, nil
	}
	return schedule{}, fmt.Errorf("schedule %q: not a cron table or @every interval", text)
}

// zone is the schedule's own time zone (TZ= or CRON_TZ=), or "" for the
// machine's local time.
func (s schedule) zone() string {
	if s.spec == nil || s.spec.Location == nil || s.spec.Location == time.Local {
		return ""
	}
	return s.spec.Location.String()
}

// set lists the values of a field's bits from low to high.
func (f field) set(b uint64) []int {
	var out []int
	for v := f.min; v <= f.max; v++ {
		if b&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// full reports whether b holds every value of f.
func (f field) full(b uint64) bool {
	return bits.OnesCount64(b&^starBit) == f.max-f.min+1
}

// step reports whether vals is start, start+k, ... up to the field's end
// (k > 1), the shape systemd writes as start/k and cron as start-max/k.
func (f field) step(vals []int) (start, k int, ok bool) {
	if len(vals) < 2 {
		return 0, 0, false
	}
	k = vals[1] - vals[0]
	for i := 1; i < len(vals); i++ {
		if vals[i]-vals[i-1] != k {
			return 0, 0, false
		}
	}
	return vals[0], k, k > 1 && vals[len(vals)-1]+k > f.max
}

// runs writes vals as single values and ranges (three or more in a row),
// comma-joined, each value written by name and ranges joined by dash.
func runs(vals []int, name func(int) string, dash string) string {
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, name(vals[i])+dash+name(vals[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, name(vals[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// calendarField writes one field in systemd's calendar syntax.
func calendarField(f field, b uint64, width int) string {
	if f.full(b) {
		return "*"
	}
	num := func(v int) string { return fmt.Sprintf("%0*d", width, v) }
	vals := f.set(b)
	if start, k, ok := f.step(vals); ok {
		return num(start) + "/" + strconv.Itoa(k)
	}
	return runs(vals, num, "..")
}

// calendarWeekdays writes the day-of-week field in systemd's syntax, whose
// week runs Monday to Sunday (a range never wraps past Sunday).
func calendarWeekdays(b uint64) string {
	names := []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	// Monday=1 .. Sunday=7, so ranges follow systemd's order.
	var vals []int
	for _, v := range weekdays.set(b) {
		if v == 0 {
			v = 7
		}
		vals = append(vals, v)
	}
	if len(vals) > 0 && vals[0] == 7 {
		vals = append(vals[1:], 7)
	}
	return runs(vals, func(v int) string { return names[v%7] }, "..")
}

// OnCalendar converts a cron table to systemd OnCalendar= values. Cron runs
// a job when day-of-month OR day-of-week matches if both are restricted
// (neither written as *), while systemd needs both to match: that case
// takes two values, which a timer joins. Seconds are always 00.
func onCalendar(spec *cron.SpecSchedule, zone string) []string {
	timeOf := calendarField(hours, spec.Hour, 2) + ":" + calendarField(minutes, spec.Minute, 2) + ":00"
	month := calendarField(months, spec.Month, 2)
	line := func(dow string, dom uint64) string {
		s := "*-" + month + "-" + calendarField(days, dom, 2) + " " + timeOf
		if dow != "" {
			s = dow + " " + s
		}
		if zone != "" {
			s += " " + zone
		}
		return s
	}
	domRestricted := spec.Dom&starBit == 0
	dowRestricted := spec.Dow&starBit == 0
	allDays := uint64(1<<32-1) &^ 1 // bits 1..31
	switch {
	case domRestricted && dowRestricted:
		return []string{line("", spec.Dom), line(calendarWeekdays(spec.Dow), allDays)}
	case dowRestricted:
		return []string{line(calendarWeekdays(spec.Dow), allDays)}
	default:
		// A day-of-week written as * (or a restricted day-of-month alone)
		// matches on day-of-month only.
		return []string{line("", spec.Dom)}
	}
}

// cronField writes one field back in cron's own syntax (for Kubernetes),
// keeping a * that was written as such: it decides how the two day fields
// combine.
func cronField(f field, b uint64) string {
	if b&starBit != 0 {
		return "*"
	}
	vals := f.set(b)
	if start, k, ok := f.step(vals); ok {
		if start == f.min {
			return "*/" + strconv.Itoa(k)
		}
		return strconv.Itoa(start) + "-" + strconv.Itoa(f.max) + "/" + strconv.Itoa(k)
	}
	return runs(vals, strconv.Itoa, "-")
}

// cronTable writes a schedule as five cron fields, the form a Kubernetes
// CronJob takes. An interval is written as a cron table only when one says
// exactly the same (whole minutes dividing an hour, whole hours dividing a
// day); ok is false otherwise.
func cronTable(s schedule) (string, bool) {
	if s.spec == nil {
		d := s.every
		switch {
		case d%time.Minute == 0 && d < time.Hour && time.Hour%d == 0:
			return fmt.Sprintf("*/%d * * * *", d/time.Minute), true
		case d == time.Hour:
			return "0 * * * *", true
		case d%time.Hour == 0 && d < 24*time.Hour && (24*time.Hour)%d == 0:
			return fmt.Sprintf("0 */%d * * *", d/time.Hour), true
		case d == 24*time.Hour:
			return "0 0 * * *", true
		}
		return "", false
	}
	sp := s.spec
	if sp.Second != 1 {
		// Only second 0 can be written in five fields; ParseStandard
		// always gives it.
		return "", false
	}
	return strings.Join([]string{
		cronField(minutes, sp.Minute), cronField(hours, sp.Hour), cronField(days, sp.Dom),
		cronField(months, sp.Month), cronField(weekdays, sp.Dow),
	}, " "), true
}
