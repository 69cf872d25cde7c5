//go:build !race

package avrodec

const raceEnabled = false
