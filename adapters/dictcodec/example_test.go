package dictcodec_test

import (
	"errors"
	"fmt"
	"time"

	"pcx/adapters/dictcodec"
	"pcx/domain"
)

func ExampleAppendRelay() {
	at := time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)
	notice := domain.Notice(at, domain.JoinText("Ivan"))
	fmt.Println(string(dictcodec.AppendRelay(nil, &notice)))
	// Output: {"time":"2021-09-27 12:34:56.789000+00:00","nickname":"SERVER","text":"User \"Ivan\" connected"}
}

func ExampleDecodeInbound() {
	in, err := dictcodec.DecodeInbound([]byte(`{"text":"Hello", "attachment":"1.jpg", "extra":[{"ignored":"but checked"}]}`))
	if err != nil {
		panic(err)
	}
	req, err := in.Request()
	fmt.Println(req.Message.Text, req.Message.Attachment, in.PayloadFollows(), err)

	// A record the rules refuse still says that a payload follows.
	in, _ = dictcodec.DecodeInbound([]byte(`{"text":["not","a","string"],"attachment":"1.jpg"}`))
	_, err = in.Request()
	fmt.Println(err, in.PayloadFollows())

	_, err = dictcodec.DecodeInbound([]byte(`{"text":"a","x":{"k":"","k":""}}`))
	fmt.Println(err, errors.Is(err, dictcodec.ErrSyntax))
	// Output:
	// Hello 1.jpg true <nil>
	// text must be a string true
	// dictcodec: duplicate key "k" at byte 24 true
}
