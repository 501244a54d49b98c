package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "s3cr3t-gateway-key"

func TestNewHTTPValidation(t *testing.T) {
	tests := []struct {
		url, key string
		want     string // substring of the error, "" for success
	}{
		{"https://sms.example.gov.cn/send", testKey, ""},
		{"http://127.0.0.1:8080/send?tenant=1", testKey, ""},
		{"", testKey, "短信网关地址不能为空"},
		{"   ", testKey, "短信网关地址不能为空"},
		{"ftp://sms.example.gov.cn/send", testKey, "必须以 http:// 或 https:// 开头"},
		{"sms.example.gov.cn/send", testKey, "必须以 http:// 或 https:// 开头"},
		{"https:///send", testKey, "缺少主机名"},
		{"http://[::1", testKey, "格式不正确"},
		{"https://sms.example.gov.cn/send", "", "短信网关密钥不能为空"},
		{"https://sms.example.gov.cn/send", "  ", "短信网关密钥不能为空"},
	}
	for _, tt := range tests {
		h, err := NewHTTP(tt.url, tt.key, nil)
		if tt.want == "" {
			if err != nil || h == nil {
				t.Errorf("NewHTTP(%q) = %v, %v; want a sender", tt.url, h, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewHTTP(%q, %q) error = %v, want %q", tt.url, tt.key, err, tt.want)
		}
	}
}

func TestNewHTTPClientTimeout(t *testing.T) {
	h, err := NewHTTP("https://sms.example.gov.cn/send", testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.client.Timeout != DefaultTimeout {
		t.Errorf("nil client: timeout %v, want %v", h.client.Timeout, DefaultTimeout)
	}
	mine := &http.Client{}
	h, err = NewHTTP("https://sms.example.gov.cn/send", testKey, mine)
	if err != nil {
		t.Fatal(err)
	}
	if h.client.Timeout != DefaultTimeout || mine.Timeout != 0 {
		t.Errorf("client without timeout: got %v, caller's now %v", h.client.Timeout, mine.Timeout)
	}
	mine = &http.Client{Timeout: 3 * time.Second}
	h, err = NewHTTP("https://sms.example.gov.cn/send", testKey, mine)
	if err != nil {
		t.Fatal(err)
	}
	if h.client != mine {
		t.Errorf("client with timeout was not used as is")
	}
}

func TestHTTPRequestShape(t *testing.T) {
	type seen struct {
		method, path, query, auth, ctype string
		body                             map[string]any
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("body %q is not JSON: %v", raw, err)
		}
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	h, err := NewHTTP(srv.URL+"/v1/send?tenant=zwfw", testKey, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	text := `您的验证码为 123456，5分钟内有效。"引号"\反斜杠`
	if err := h.Send(context.Background(), "13812345678", text); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("gateway saw %d requests", len(got))
	}
	g := got[0]
	if g.method != http.MethodPost || g.path != "/v1/send" || g.query != "tenant=zwfw" {
		t.Errorf("request %s %s?%s", g.method, g.path, g.query)
	}
	if g.auth != "Bearer "+testKey {
		t.Errorf("Authorization = %q", g.auth)
	}
	if g.ctype != "application/json" {
		t.Errorf("Content-Type = %q", g.ctype)
	}
	if len(g.body) != 2 || g.body["mobile"] != "13812345678" || g.body["text"] != text {
		t.Errorf("body = %v", g.body)
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	long := strings.Repeat("错", 100) // 300 bytes
	tests := []struct {
		name, body string
		want       []string
		wantNot    []string
	}{
		{"short body", `{"error":"余额不足"}`, []string{"500 Internal Server Error", `{"error":"余额不足"}`}, nil},
		{"empty body", "", []string{"500 Internal Server Error"}, nil},
		{"long body truncated", long, []string{"500", strings.Repeat("错", 66)}, []string{strings.Repeat("错", 67)}},
		{"key and number echoed", "bad key " + testKey + " for 13812345678", []string{"500", "bad key *** for 138****5678"}, []string{testKey, "13812345678"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			h, err := NewHTTP(srv.URL, testKey, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = h.Send(context.Background(), "13812345678", "验证码 123456")
			if err == nil {
				t.Fatal("Send succeeded on a 500")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, w := range append(tt.wantNot, testKey) {
				if strings.Contains(msg, w) {
					t.Errorf("error %q contains %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "短信网关返回错误") {
				t.Errorf("error %q is not the Chinese gateway error", msg)
			}
		})
	}
	// The quoted body is at most 200 bytes.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, strings.Repeat("x", 5000))
	}))
	defer srv.Close()
	h, _ := NewHTTP(srv.URL, testKey, nil)
	err := h.Send(context.Background(), "13812345678", "hi")
	if err == nil || strings.Count(err.Error(), "x") != 200 {
		t.Errorf("error %v: want exactly 200 bytes of body", err)
	}
}

func TestHTTPContextDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	h, err := NewHTTP(srv.URL, testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = h.Send(ctx, "13812345678", "hi")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send took %v", d)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "13812345678") {
		t.Fatalf("error leaks secrets: %v", err)
	}
}

func TestHTTPClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	h, err := NewHTTP(srv.URL, testKey, &http.Client{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = h.Send(context.Background(), "13812345678", "hi")
	var te interface{ Timeout() bool }
	if err == nil || !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("Send = %v, want a timeout error", err)
	}
}

func TestHTTPKeyInURLRedacted(t *testing.T) {
	// A transport error quotes the URL; if the key is in it, it is hidden.
	h, err := NewHTTP("http://127.0.0.1:1/send?key="+testKey, testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Send(context.Background(), "13812345678", "hi")
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	if strings.Contains(err.Error(), testKey) {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func TestHTTPArgs(t *testing.T) {
	h, err := NewHTTP("http://127.0.0.1:1/send", testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Send(context.Background(), "", "hi"); !errors.Is(err, ErrNoMobile) {
		t.Errorf("empty mobile: %v", err)
	}
	if err := h.Send(context.Background(), "13812345678", " "); !errors.Is(err, ErrNoText) {
		t.Errorf("empty text: %v", err)
	}
}

func TestHTTPConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	h, err := NewHTTP(srv.URL, testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if err := h.Send(context.Background(), "13812345678", "hi"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
