package domain

// Unexported helpers that the black-box tests check over every code point
// or under the fuzzer, where going through ParseNickname would test the
// other rules instead.
var (
	IsInvisible  = isInvisible
	LookalikeKey = lookalikeKey
)
