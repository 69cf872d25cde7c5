package jsondec

import (
	"math"
	"strconv"
)

// parseTimestamp parses a timestamp field: a JSON integer counting the
// column's unit since the epoch, or an RFC 3339 / ISO 8601 string.
func (d *Decoder) parseTimestamp(n *node, s []byte, i int) int {
	c := s[i]
	if c == '"' {
		mark := len(d.buf)
		v, end := d.stringContent(s, i)
		if end < 0 {
			return -1
		}
		t, msg := timestampValue(v, n.perSec, n.unitDigits, d.opts.TruncateTimestamps)
		if msg != "" {
			return d.failf("%q is not a valid timestamp: %s", snippet(v), msg)
		}
		if !t.ok {
			return d.failf("%q is out of range for %s", snippet(v), n.typ)
		}
		d.buf = d.buf[:mark]
		d.tape = append(d.tape, slot{n: n, a: uint64(t.v)})
		return end
	}
	if c != '-' && !isDigit(c) {
		return d.wrongType(s, i, "an RFC 3339 timestamp string or a number")
	}
	neg, u, end, st := scanInt(s, i)
	switch st {
	case numSyntax:
		return d.numberSyntax(s, end)
	case numNotInt:
		return d.failf("%s is not an integer (a number for %s counts %s since the epoch)", snippet(s[i:end]), n.typ, unitName(n.unitDigits))
	}
	v, ok := int64Value(neg, u)
	if !ok || st == numRange {
		return d.failf("%s is out of range for %s", snippet(s[i:end]), n.typ)
	}
	d.tape = append(d.tape, slot{n: n, a: uint64(v)})
	return end
}

func unitName(digits int) string {
	switch digits {
	case 0:
		return "seconds"
	case 3:
		return "milliseconds"
	case 6:
		return "microseconds"
	}
	return "nanoseconds"
}

func int64Value(neg bool, u uint64) (int64, bool) {
	if neg {
		return -int64(u), u <= 1<<63
	}
	return int64(u), u <= math.MaxInt64
}

type maybeInt struct {
	v  int64
	ok bool
}

// timestampValue converts an ISO 8601 date-time, as RFC 3339 writes it,
// to ticks of perSec since the epoch:
//
//	YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)fraction]]][Z|z|±hh:mm|±hhmm|±hh]
//
// A string without an offset is UTC; a date alone is its midnight, UTC.
// Fraction digits finer than the unit must be zeros unless truncate. It
// returns a reason when the text is not such a timestamp, and ok=false
// when it is one that the unit cannot represent.
func timestampValue(v []byte, perSec int64, unitDigits int, truncate bool) (maybeInt, string) {
	days, msg := dateValue(v)
	if msg != "" {
		return maybeInt{}, msg
	}
	secs := days * 86400
	var ticks int64 // sub-second ticks, 0 <= ticks < perSec
	j := 10
	if j < len(v) {
		switch v[j] {
		case 'T', 't', ' ':
		default:
			return maybeInt{}, "expected 'T' after the date"
		}
		j++
		hh, ok1 := digits2(v, j)
		ok2 := j+2 < len(v) && v[j+2] == ':'
		mm, ok3 := digits2(v, j+3)
		if !ok1 || !ok2 || !ok3 {
			return maybeInt{}, "expected hh:mm after the date"
		}
		if hh > 23 || mm > 59 {
			return maybeInt{}, "time of day out of range"
		}
		j += 5
		ss := 0
		if j < len(v) && v[j] == ':' {
			var ok bool
			if ss, ok = digits2(v, j+1); !ok {
				return maybeInt{}, "expected two digits of seconds"
			}
			if ss > 59 {
				return maybeInt{}, "seconds out of range (leap seconds are not representable)"
			}
			j += 3
			if j < len(v) && (v[j] == '.' || v[j] == ',') {
				j++
				start := j
				for ; j < len(v) && isDigit(v[j]); j++ {
					c := int64(v[j] - '0')
					if j-start < unitDigits {
						ticks = ticks*10 + c
					} else if c != 0 && !truncate {
						return maybeInt{}, "more fraction digits than " + unitName(unitDigits) + " hold"
					}
				}
				if j == start {
					return maybeInt{}, "expected digits after the decimal point"
				}
				for k := j - start; k < unitDigits; k++ {
					ticks *= 10
				}
			}
		}
		secs += int64(hh*3600 + mm*60 + ss)
		if j < len(v) {
			switch v[j] {
			case 'Z', 'z':
				j++
			case '+', '-':
				sign := int64(1)
				if v[j] == '-' {
					sign = -1
				}
				oh, ok := digits2(v, j+1)
				if !ok {
					return maybeInt{}, "bad UTC offset"
				}
				j += 3
				om := 0
				if j < len(v) {
					if v[j] == ':' {
						j++
					}
					if om, ok = digits2(v, j); !ok {
						return maybeInt{}, "bad UTC offset"
					}
					j += 2
				}
				if oh > 23 || om > 59 {
					return maybeInt{}, "UTC offset out of range"
				}
				secs -= sign * int64(oh*3600+om*60)
			default:
				return maybeInt{}, "expected Z or a UTC offset after the time"
			}
		}
		if j != len(v) {
			return maybeInt{}, "unexpected text after the timestamp"
		}
	}
	// secs*perSec + ticks, checked: go through secs+1 for negative
	// seconds so that the product stays in range near math.MinInt64.
	if secs < 0 && ticks > 0 {
		secs++
		ticks -= perSec
	}
	if secs > math.MaxInt64/perSec || secs < math.MinInt64/perSec {
		return maybeInt{}, ""
	}
	t := secs * perSec
	if ticks > 0 && t > math.MaxInt64-ticks || ticks < 0 && t < math.MinInt64-ticks {
		return maybeInt{}, ""
	}
	return maybeInt{t + ticks, true}, ""
}

func digits2(v []byte, j int) (int, bool) {
	if j+2 > len(v) || !isDigit(v[j]) || !isDigit(v[j+1]) {
		return 0, false
	}
	return int(v[j]-'0')*10 + int(v[j+1]-'0'), true
}

// dateValue reads the YYYY-MM-DD at the start of v as days since the
// epoch.
func dateValue(v []byte) (int64, string) {
	if len(v) < 10 || v[4] != '-' || v[7] != '-' {
		return 0, "expected YYYY-MM-DD"
	}
	y1, ok1 := digits2(v, 0)
	y2, ok2 := digits2(v, 2)
	m, ok3 := digits2(v, 5)
	day, ok4 := digits2(v, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, "expected YYYY-MM-DD"
	}
	y := y1*100 + y2
	if m < 1 || m > 12 {
		return 0, "month " + strconv.Itoa(m) + " out of range"
	}
	if day < 1 || day > daysIn(y, m) {
		return 0, "day " + strconv.Itoa(day) + " out of range"
	}
	return daysFromCivil(int64(y), int64(m), int64(day)), ""
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// parseDate parses a date32 (days) or date64 (milliseconds) field from a
// "YYYY-MM-DD" string or a JSON integer in the column's unit.
func (d *Decoder) parseDate(n *node, s []byte, i int) int {
	c := s[i]
	if c == '"' {
		mark := len(d.buf)
		v, end := d.stringContent(s, i)
		if end < 0 {
			return -1
		}
		days, msg := dateValue(v)
		if msg == "" && len(v) != 10 {
			msg = "unexpected text after the date"
		}
		if msg != "" {
			return d.failf("%q is not a valid date: %s", snippet(v), msg)
		}
		d.buf = d.buf[:mark]
		if n.kind == kDate64 {
			days *= 86400000
		}
		d.tape = append(d.tape, slot{n: n, a: uint64(days)})
		return end
	}
	if c != '-' && !isDigit(c) {
		return d.wrongType(s, i, "a YYYY-MM-DD date string or a number")
	}
	neg, u, end, st := scanInt(s, i)
	switch st {
	case numSyntax:
		return d.numberSyntax(s, end)
	case numNotInt:
		return d.failf("%s is not an integer", snippet(s[i:end]))
	}
	v, ok := int64Value(neg, u)
	if n.kind == kDate32 && (v < math.MinInt32 || v > math.MaxInt32) {
		ok = false
	}
	if !ok || st == numRange {
		return d.failf("%s is out of range for %s", snippet(s[i:end]), n.typ)
	}
	d.tape = append(d.tape, slot{n: n, a: uint64(v)})
	return end
}
