package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds a gateway request when the client has no timeout.
const DefaultTimeout = 10 * time.Second

// maxErrBody is how much of a failed answer's body an error quotes.
const maxErrBody = 200

// HTTP sends messages through an SMS gateway: each message is a POST of
// the JSON object {"mobile": "…", "text": "…"} to the gateway's URL with
// the header "Authorization: Bearer <key>". Any 2xx answer is success.
// Safe for concurrent use.
type HTTP struct {
	url    string
	key    string
	client *http.Client
}

var _ Sender = (*HTTP)(nil)

// NewHTTP returns a gateway sender. rawURL must be an absolute http or
// https URL and key must not be empty. Requests use client, or a new
// client if nil; if the client has no Timeout, a copy with DefaultTimeout
// is used, so the caller's client is never modified.
func NewHTTP(rawURL, key string, client *http.Client) (*HTTP, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	switch {
	case strings.TrimSpace(rawURL) == "":
		return nil, errors.New("短信网关地址不能为空")
	case err != nil:
		return nil, errors.New("短信网关地址格式不正确")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("短信网关地址必须以 http:// 或 https:// 开头")
	case u.Host == "":
		return nil, errors.New("短信网关地址缺少主机名")
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, errors.New("短信网关密钥不能为空")
	}
	if client == nil {
		client = &http.Client{}
	}
	if client.Timeout == 0 {
		c := *client
		c.Timeout = DefaultTimeout
		client = &c
	}
	return &HTTP{url: u.String(), key: key, client: client}, nil
}

// Send posts one message to the gateway. A transport failure, including
// ctx's deadline or the client's timeout, is returned wrapped (errors.Is
// works on it); a non-2xx answer gives an error quoting the status and at
// most 200 bytes of the body, with the key and the mobile number hidden
// should the gateway echo them. Errors never contain the key or the mobile
// number.
func (h *HTTP) Send(ctx context.Context, mobile, text string) error {
	if err := checkArgs(mobile, text); err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Mobile string `json:"mobile"`
		Text   string `json:"text"`
	}{mobile, text})
	if err != nil {
		return fmt.Errorf("短信发送失败：%w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("短信发送失败：%w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("短信发送失败：%w", h.redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	// Read enough to hide the key and the number should the gateway echo
	// them back, then cut to maxErrBody.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, int64(maxErrBody+len(h.key)+len(mobile))))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	snippet := strings.ReplaceAll(string(raw), h.key, "***")
	snippet = truncate(strings.ReplaceAll(snippet, mobile, mask(mobile)), maxErrBody)
	snippet = strings.TrimSpace(strings.ToValidUTF8(snippet, "\uFFFD"))
	if snippet == "" {
		return fmt.Errorf("短信网关返回错误：%s", resp.Status)
	}
	return fmt.Errorf("短信网关返回错误：%s：%s", resp.Status, snippet)
}

// redactErr hides the key in a transport error, in case it was put in the
// URL or a proxy echoes it.
func (h *HTTP) redactErr(err error) error {
	if !strings.Contains(err.Error(), h.key) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), h.key, "***"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
