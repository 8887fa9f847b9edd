// Package square is a riff function in Go: riff compiles it at `riff create go` into one small
// binary with a generated main, and calls Square once per message.
package square

// Square takes the message's payload decoded as an int (text "7" or JSON 7) and returns its
// square, encoded for the caller's Accept.
func Square(x int) int {
	return x * x
}
