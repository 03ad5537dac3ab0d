package dictcodec_test

import (
	"errors"
	"fmt"

	"pcx/adapters/dictcodec"
	"pcx/domain"
)

func ExampleAppend() {
	r := domain.NewRecord(
		domain.Field{Key: "time", Value: domain.Str("2021-09-27 12:34:56.789000+00:00")},
		domain.Field{Key: "nickname", Value: domain.Str("SERVER")},
		domain.Field{Key: "text", Value: domain.Str(`User "Ivan" connected`)},
	)
	fmt.Println(string(dictcodec.Append(nil, r)))
	// Output: {"time":"2021-09-27 12:34:56.789000+00:00","nickname":"SERVER","text":"User \"Ivan\" connected"}
}

func ExampleDecode() {
	r, err := dictcodec.Decode([]byte(`{"text":"Hello", "attachment":"1.jpg"}`))
	if err != nil {
		panic(err)
	}
	text, _ := r.GetString("text")
	fmt.Println(text, r.Has("attachment"))

	_, err = dictcodec.Decode([]byte(`{"text":"a","text":"b"}`))
	fmt.Println(err, errors.Is(err, dictcodec.ErrSyntax))
	// Output:
	// Hello true
	// dictcodec: duplicate key "text" at byte 12 true
}
