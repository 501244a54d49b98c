package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

const (
	ctxID     = "person.id_number"
	ctxMobile = "person.mobile"
	idNumber  = "11010519491231002X"
)

func randKey(t testing.TB) string {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mustKeys(t testing.TB, enc, idx string) *Keys {
	t.Helper()
	k, err := ParseKeys(enc, idx)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

func testKeys(t testing.TB) *Keys {
	t.Helper()
	return mustKeys(t, "k1:"+randKey(t), randKey(t))
}

func TestRoundTrip(t *testing.T) {
	k := testKeys(t)
	for _, pt := range []string{idNumber, "13800138000", "", "张三", strings.Repeat("长", 5000), "a\x00b"} {
		s, err := k.Seal(pt, ctxID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "v1.k1.") {
			t.Fatalf("sealed %q lacks header", s)
		}
		if !regexp.MustCompile(`^v1\.k1\.[A-Za-z0-9_-]+$`).MatchString(s) {
			t.Fatalf("sealed %q not url-safe ascii", s)
		}
		if pt != "" && strings.Contains(s, pt) {
			t.Fatal("plaintext visible in sealed value")
		}
		got, err := k.Open(s, ctxID)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got != pt {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
		if !IsSealed(s) {
			t.Fatal("IsSealed false for sealed value")
		}
	}
	if IsSealed(idNumber) {
		t.Fatal("IsSealed true for plaintext")
	}
}

func TestSealRandomNonce(t *testing.T) {
	k := testKeys(t)
	a, _ := k.Seal(idNumber, ctxID)
	b, _ := k.Seal(idNumber, ctxID)
	if a == b {
		t.Fatal("two seals of the same value are equal")
	}
}

func TestTamperAnyByte(t *testing.T) {
	k := testKeys(t)
	s, err := k.Seal(idNumber, ctxID)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.v\n\r=+/ \x00\xff"
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(alphabet); j++ {
			c := alphabet[j]
			if c == s[i] {
				continue
			}
			b := []byte(s)
			b[i] = c
			if got, err := k.Open(string(b), ctxID); err == nil {
				t.Fatalf("byte %d changed to %q: opened as %q", i, c, got)
			}
		}
		// Deleting or inserting a byte must fail too.
		if _, err := k.Open(s[:i]+s[i+1:], ctxID); err == nil {
			t.Fatalf("byte %d deleted: opened", i)
		}
		if _, err := k.Open(s[:i]+"A"+s[i:], ctxID); err == nil {
			t.Fatalf("byte inserted at %d: opened", i)
		}
	}
	if _, err := k.Open(s+"A", ctxID); err == nil {
		t.Fatal("byte appended: opened")
	}
	if _, err := k.Open(s+"\n", ctxID); err == nil {
		t.Fatal("newline appended: opened")
	}
}

func TestTamperPayloadBits(t *testing.T) {
	// Flip every bit of the decoded payload and re-encode: GCM must notice.
	k := testKeys(t)
	s, _ := k.Seal(idNumber, ctxID)
	raw, err := b64.DecodeString(strings.TrimPrefix(s, "v1.k1."))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if _, err := k.Open("v1.k1."+b64.EncodeToString(b), ctxID); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("byte %d bit %d: err = %v, want ErrDecrypt", i, bit, err)
			}
		}
	}
}

func TestWrongContext(t *testing.T) {
	k := testKeys(t)
	s, _ := k.Seal(idNumber, ctxID)
	for _, c := range []string{ctxMobile, "person.id_numbe", "person.id_number ", "Person.id_number"} {
		if _, err := k.Open(s, c); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("context %q: err = %v, want ErrDecrypt", c, err)
		}
	}
	if _, err := k.Seal(idNumber, ""); !errors.Is(err, ErrContext) {
		t.Fatalf("Seal empty context: err = %v", err)
	}
	if _, err := k.Open(s, ""); !errors.Is(err, ErrContext) {
		t.Fatalf("Open empty context: err = %v", err)
	}
}

func TestUnknownKeyID(t *testing.T) {
	k := testKeys(t)
	s, _ := k.Seal(idNumber, ctxID)
	other := strings.Replace(s, "v1.k1.", "v1.k9.", 1)
	_, err := k.Open(other, ctxID)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), "k9") {
		t.Fatalf("error %q should name the key id", err)
	}

	// A different key under the same id (configuration mix-up) fails too.
	k2 := testKeys(t)
	if _, err := k2.Open(s, ctxID); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("other key same id: err = %v, want ErrDecrypt", err)
	}
}

func TestMalformed(t *testing.T) {
	k := testKeys(t)
	for _, s := range []string{"", "v1", "v1.", "v1.k1", "v1.k1.", "v2.k1.AAAA", "v1..AAAA", "v1.K1.AAAA",
		"v1.k1.AAAA", "v1.k1.!!!!", idNumber, "v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "v1.k1.AA.AA"} {
		if _, err := k.Open(s, ctxID); err == nil {
			t.Fatalf("Open(%q) succeeded", s)
		}
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey, idx := randKey(t), randKey(t), randKey(t)
	before := mustKeys(t, "old:"+oldKey, idx)
	sOld, _ := before.Seal(idNumber, ctxID)

	after := mustKeys(t, "new:"+newKey+", old:"+oldKey, idx)
	if after.ActiveID() != "new" {
		t.Fatalf("ActiveID = %q", after.ActiveID())
	}
	if got, err := after.Open(sOld, ctxID); err != nil || got != idNumber {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	sNew, _ := after.Seal(idNumber, ctxID)
	if !strings.HasPrefix(sNew, "v1.new.") {
		t.Fatalf("new seal %q not under active key", sNew)
	}
	if !after.NeedsRotation(sOld) {
		t.Fatal("NeedsRotation false for old key")
	}
	if after.NeedsRotation(sNew) {
		t.Fatal("NeedsRotation true for active key")
	}
	if before.NeedsRotation(sOld) {
		t.Fatal("NeedsRotation true before rotation")
	}
	if after.NeedsRotation("garbage") || after.NeedsRotation("") {
		t.Fatal("NeedsRotation true for malformed")
	}
	if !after.NeedsRotation(strings.Replace(sOld, ".old.", ".gone.", 1)) {
		t.Fatal("NeedsRotation false for unconfigured key id")
	}

	// Re-seal job.
	re, changed, err := after.Reseal(sOld, ctxID)
	if err != nil || !changed || after.NeedsRotation(re) {
		t.Fatalf("Reseal: %q %v %v", re, changed, err)
	}
	if got, _ := after.Open(re, ctxID); got != idNumber {
		t.Fatalf("resealed opens as %q", got)
	}
	same, changed, err := after.Reseal(sNew, ctxID)
	if err != nil || changed || same != sNew {
		t.Fatalf("Reseal of current value: %v %v", changed, err)
	}
	if _, _, err := after.Reseal(sOld, ctxMobile); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Reseal wrong context: %v", err)
	}
	if _, _, err := after.Reseal("plain", ctxID); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Reseal malformed: %v", err)
	}

	// After the old key is removed, the re-sealed value still opens and
	// the old one reports the missing key.
	final := mustKeys(t, "new:"+newKey, idx)
	if got, err := final.Open(re, ctxID); err != nil || got != idNumber {
		t.Fatalf("resealed after removal: %q %v", got, err)
	}
	if _, err := final.Open(sOld, ctxID); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old after removal: %v", err)
	}
	// Index is unaffected by rotation.
	if before.Index("id_number", idNumber) != final.Index("id_number", idNumber) {
		t.Fatal("Index changed with encryption key rotation")
	}
}

func TestIndex(t *testing.T) {
	k := testKeys(t)
	a := k.Index("id_number", idNumber)
	if a != k.Index("id_number", idNumber) {
		t.Fatal("Index not deterministic")
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) {
		t.Fatalf("Index %q not 64 lowercase hex", a)
	}
	if a == k.Index("mobile", idNumber) {
		t.Fatal("kinds not separated")
	}
	if a == k.Index("id_number", "11010519491231002x") {
		t.Fatal("different values equal index")
	}
	// The NUL separator keeps kind/value boundaries apart.
	if k.Index("ab", "c") == k.Index("a", "bc") {
		t.Fatal("kind/value boundary ambiguous")
	}
	// Another index key gives unrelated output.
	if a == testKeys(t).Index("id_number", idNumber) {
		t.Fatal("Index independent of key")
	}
}

// TestKnownAnswers pins the formats with values computed outside this
// package (Python's hmac and the cryptography package's AESGCM), so that
// neither can change by accident: stored indexes would stop matching and
// stored values stop opening.
func TestKnownAnswers(t *testing.T) {
	encKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, KeySize))
	idxKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	k := mustKeys(t, "k1:"+encKey, idxKey)

	const wantIndex = "404dc8d4b5ae96f4122aaf6d23b0d65c4c4f5504f2198f8f63d1780dca4263ab"
	if got := k.Index("id_number", idNumber); got != wantIndex {
		t.Fatalf("Index = %s, want %s", got, wantIndex)
	}

	// nonce 00..0b, AAD "zwfw.pii.v1\x00k1\x00person.id_number".
	const sealed = "v1.k1.AAECAwQFBgcICQoLeDnSy-F8vX0fsXEkrY9Vy2Fm8IA5HxFuUEaJrEs3OlIbkA"
	if got, err := k.Open(sealed, ctxID); err != nil || got != idNumber {
		t.Fatalf("Open(known) = %q, %v", got, err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	good, idx := randKey(t), randKey(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 33))
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
	badB64 := good[:10] + "*" + good[11:]
	urlB64 := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, KeySize/2)) // has - and _
	cases := []struct {
		name, enc, idx, want string
	}{
		{"empty", "", idx, "未配置数据加密密钥"},
		{"blank", "  ", idx, "未配置数据加密密钥"},
		{"empty entry", "k1:" + good + ",", idx, "第2个数据加密密钥为空"},
		{"no id", good, idx, "缺少 id"},
		{"empty id", ":" + good, idx, "id 无效"},
		{"upper id", "K1:" + good, idx, "id 无效"},
		{"bad id chars", "k-1:" + good, idx, "id 无效"},
		{"fullwidth id", "ｋ１:" + good, idx, "id 无效"},
		{"long id", "k12345678901234567:" + good, idx, "id 无效"},
		{"swapped", good + ":k1", idx, "id 无效"},
		{"duplicate", "k1:" + good + ",k1:" + randKey(t), idx, "数据加密密钥 id k1 重复"},
		{"bad base64", "k1:" + badB64, idx, "数据加密密钥 k1 不是有效的 base64"},
		{"url base64", "k1:" + urlB64, idx, "不是有效的 base64"},
		{"short", "k1:" + good + ",id2:" + short, idx, "数据加密密钥 id2 长度应为32字节（base64 编码）"},
		{"long", "k1:" + long, idx, "长度应为32字节"},
		{"zero", "k1:" + zero, idx, "全为零"},
		{"empty key", "k1:", idx, "数据加密密钥 k1 为空"},
		{"no index", "k1:" + good, "", "未配置盲索引密钥"},
		{"bad index", "k1:" + good, badB64, "盲索引密钥不是有效的 base64"},
		{"short index", "k1:" + good, short, "盲索引密钥长度应为32字节"},
		{"index reuse", "k1:" + randKey(t) + ",k2:" + good, good, "盲索引密钥不得与数据加密密钥 k2 相同"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKeys(c.enc, c.idx)
			if err == nil {
				t.Fatalf("accepted: %v", k)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not contain %q", msg, c.want)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q not one line", msg)
			}
			assertNoSecret(t, msg, c.enc, c.idx)
		})
	}
}

// assertNoSecret fails if msg contains any key text from the inputs, or any
// 6-character run of one (a partial echo such as a decoder's quoted byte).
func assertNoSecret(t *testing.T, msg string, inputs ...string) {
	t.Helper()
	for _, in := range inputs {
		for _, entry := range strings.Split(in, ",") {
			for _, part := range strings.Split(entry, ":") {
				part = strings.TrimSpace(part)
				if len(part) <= MaxKeyIDLen && validID(part) {
					continue // a key id, allowed in messages
				}
				for i := 0; i+6 <= len(part); i++ {
					if strings.Contains(msg, part[i:i+6]) {
						t.Fatalf("error %q leaks key text %q", msg, part[i:i+6])
					}
				}
			}
		}
	}
}

func TestParseKeysTrimsSpaces(t *testing.T) {
	a, b, idx := randKey(t), randKey(t), randKey(t)
	k := mustKeys(t, " k2 : "+a+" ,\tk1:"+b+"\n", " "+idx+"\n")
	if k.ActiveID() != "k2" || strings.Join(k.IDs(), ",") != "k2,k1" {
		t.Fatalf("ids = %v active %s", k.IDs(), k.ActiveID())
	}
}

func TestGenerateKeys(t *testing.T) {
	enc, idx, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	k := mustKeys(t, enc, idx)
	if !regexp.MustCompile(`^k\d{8}[0-9a-f]{4}$`).MatchString(k.ActiveID()) {
		t.Fatalf("generated id %q", k.ActiveID())
	}
	s, err := k.Seal(idNumber, ctxID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(s, ctxID); err != nil || got != idNumber {
		t.Fatalf("%q %v", got, err)
	}
	enc2, idx2, _ := GenerateKeys()
	if enc2 == enc || idx2 == idx {
		t.Fatal("GenerateKeys not random")
	}
	// A rotation config built from two generated entries parses.
	if _, err := ParseKeys(enc2+","+enc, idx); err != nil {
		t.Fatal(err)
	}
}

func TestNoKeyMaterialInFormatting(t *testing.T) {
	encKey, idxKey := randKey(t), randKey(t)
	k := mustKeys(t, "k1:"+encKey, idxKey)
	rawIdx, _ := base64.StdEncoding.DecodeString(idxKey)
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("keys", "keys", k, "val", *k)
	outs := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k),
		fmt.Sprintf("%v %+v %#v", *k, *k, *k), logBuf.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, encKey) || strings.Contains(out, idxKey) ||
			strings.Contains(out, fmt.Sprint(rawIdx)) || strings.Contains(out, fmt.Sprintf("%x", rawIdx)) {
			t.Fatalf("formatting leaks key: %s", out)
		}
		if !strings.Contains(out, "k1") {
			t.Fatalf("formatting %q lacks id", out)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	k := testKeys(t)
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 200; i++ {
				pt := fmt.Sprintf("%d-%d", g, i)
				s, err := k.Seal(pt, ctxMobile)
				if err != nil {
					done <- err
					return
				}
				got, err := k.Open(s, ctxMobile)
				if err != nil || got != pt {
					done <- fmt.Errorf("got %q %v", got, err)
					return
				}
				_ = k.Index("mobile", pt)
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k := mustKeys(f, "k1:"+randKey(f)+",k2:"+randKey(f), randKey(f))
	valid, _ := k.Seal(idNumber, ctxID)
	for _, s := range []string{valid, "", "v1.k1.", "v1.k2.AAAA", "v1.zz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"v1.k1.\n", valid + "=", "v1." + strings.Repeat("a", 100) + ".x"} {
		f.Add(s, ctxID)
	}
	f.Add(valid, "")
	f.Fuzz(func(t *testing.T, sealed, context string) {
		pt, err := k.Open(sealed, context)
		if err == nil {
			// Only a value this keyring sealed can open; for the seed that is
			// the ID number under its context.
			if sealed != valid || context != ctxID || pt != idNumber {
				t.Fatalf("Open(%q, %q) = %q without error", sealed, context, pt)
			}
		}
		_ = k.NeedsRotation(sealed)
		_ = IsSealed(sealed)
		_, _, _ = k.Reseal(sealed, context)
	})
}

func BenchmarkSeal(b *testing.B) {
	k := testKeys(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(idNumber, ctxID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := testKeys(b)
	s, _ := k.Seal(idNumber, ctxID)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(s, ctxID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	k := testKeys(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Index("id_number", idNumber)
	}
}
