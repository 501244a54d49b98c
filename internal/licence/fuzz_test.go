package licence_test

import (
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/licence"
)

// Tokens come from anyone's QR code: decoding never panics, and whatever
// verifies was signed by the key, in its one canonical spelling.
func FuzzVerify(f *testing.F) {
	setting, _ := licence.GenerateKey("l1")
	keys, err := licence.ParseKeys(setting)
	if err != nil {
		f.Fatal(err)
	}
	d := licence.Data{Number: "JY2026000001", Type: "食品经营许可证", Holder: "张三", Issued: "2026-01-05",
		Fields: []licence.Field{{Label: "经营场所", Value: "湛河区"}}}
	good := keys.Sign(&d)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("e30.AAAA")
	f.Add("")
	day := calendar.NewDate(2026, 6, 1)
	f.Fuzz(func(t *testing.T, token string) {
		got, err := keys.Verify(token, day)
		if err == nil && strings.TrimSpace(token) != good {
			t.Fatalf("a token other than the signed one verifies: %q %+v", token, got)
		}
		_, _, _, _ = licence.Decode(token)
		_, _ = licence.ReadFile([]byte(token))
	})
}
